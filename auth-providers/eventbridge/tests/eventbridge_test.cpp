#include "eventbridge.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::EventBridgeProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::sdk::Verdict;
using inlet::testing::RequestBuilder;

namespace {

// The event envelope from the EventBridge user guide ("Amazon EventBridge events").
const char kEvent[] = R"({
  "version": "0",
  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
  "detail-type": "EC2 Instance State-change Notification",
  "source": "aws.ec2",
  "account": "111122223333",
  "time": "2017-12-22T18:43:48Z",
  "region": "us-west-1",
  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
})";

std::unique_ptr<EventBridgeProvider> make(const std::string& options,
                                          std::vector<std::string> secrets) {
  std::vector<Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return EventBridgeProvider::create(Config::parse(options), s, Host());
}

// The headers EventBridge sends on every invocation (providers.md §2.4).
RequestBuilder eventBridgeRequest() {
  RequestBuilder r;
  r.body(kEvent)
      .header("User-Agent", "Amazon/EventBridge/ApiDestinations")
      .header("Content-Type", "application/json; charset=utf-8")
      .header("Range", "bytes=0-1048575")
      .header("Accept-Encoding", "gzip,deflate");
  return r;
}

void expectAcceptedEnvelope(const Verdict& v) {
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.message;
  EXPECT_EQ(v.delivery_id, "6a7e8feb-b491-4cf7-a9f1-bf3703467718");
  EXPECT_EQ(v.event_type, "EC2 Instance State-change Notification");
}

TEST(EventBridge, ApiKeyDefaultHeader) {
  auto p = make(R"({"type":"api_key"})", {"k-123"});
  auto r = eventBridgeRequest();
  r.header("x-api-key", "k-123");
  expectAcceptedEnvelope(p->verify(r.request()));
}

TEST(EventBridge, ApiKeyCustomHeaderAndRotation) {
  auto p = make(R"({"type":"api_key","header":"X-Inlet-Key"})", {"new", "old"});
  auto r = eventBridgeRequest();
  r.header("x-inlet-key", "old");
  expectAcceptedEnvelope(p->verify(r.request()));
  auto wrong = eventBridgeRequest();
  wrong.header("x-inlet-key", "older");
  auto v = p->verify(wrong.request());
  EXPECT_EQ(v.code, "bad_credentials");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_TRUE(v.delivery_id.empty());
  auto missing = eventBridgeRequest();
  missing.header("x-api-key", "new");
  EXPECT_EQ(p->verify(missing.request()).code, "missing_credentials");
}

TEST(EventBridge, Basic) {
  auto p = make(R"({"type":"basic"})", {"eventbridge:p@ss:word"});
  auto r = eventBridgeRequest();
  r.header("Authorization", "Basic " + inlet::sdk::crypto::toBase64("eventbridge:p@ss:word"));
  expectAcceptedEnvelope(p->verify(r.request()));
  auto wrong = eventBridgeRequest();
  wrong.header("Authorization", "Basic " + inlet::sdk::crypto::toBase64("eventbridge:p@ss"));
  EXPECT_EQ(p->verify(wrong.request()).code, "bad_credentials");
  auto bearer = eventBridgeRequest();
  bearer.header("Authorization", "Bearer eventbridge:p@ss:word");
  EXPECT_EQ(p->verify(bearer.request()).code, "bad_credentials");
}

TEST(EventBridge, OAuthBearer) {
  auto p = make(R"({"type":"oauth"})", {"eyJhbGciOi.token"});
  auto r = eventBridgeRequest();
  r.header("Authorization", "Bearer eyJhbGciOi.token");
  expectAcceptedEnvelope(p->verify(r.request()));
  auto none = eventBridgeRequest();
  auto v = p->verify(none.request());
  EXPECT_EQ(v.code, "missing_credentials");
  EXPECT_EQ(v.http_status, 401);  // a 401 makes EventBridge refresh its OAuth token
}

TEST(EventBridge, BodyIsNotParsedBeforeCredentials) {
  // Wrong credentials with a body that names an id: the rejection carries nothing from it.
  auto p = make(R"({"type":"api_key"})", {"k"});
  auto r = eventBridgeRequest();
  r.header("x-api-key", "nope");
  auto v = p->verify(r.request());
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_TRUE(v.delivery_id.empty() && v.event_type.empty());
}

TEST(EventBridge, NonEnvelopeBodiesAreAcceptedWithoutIds) {
  auto p = make(R"({"type":"api_key"})", {"k"});
  for (std::string body : {std::string(""), std::string("not json"), std::string("{\"id\": 5}"),
                           std::string("[1,2]"), std::string("{\"id\": \"x\""),
                           std::string(100000, '['), std::string("{\"id\":\"\xff\xfe\"}")}) {
    RequestBuilder r;
    r.body(body).header("x-api-key", "k");
    auto v = p->verify(r.request());
    EXPECT_EQ(v.verdict, INLET_ACCEPT);
  }
  RequestBuilder transformed;
  transformed.body(R"({"orderId": 7})").header("x-api-key", "k");
  auto v = p->verify(transformed.request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_TRUE(v.delivery_id.empty());
}

TEST(EventBridge, HostileHeaders) {
  auto p = make(R"({"type":"api_key"})", {"k"});
  for (const auto& value : {std::string(""), std::string(65536, 'k'), std::string("k\xC3\xA9"),
                            std::string("k "), std::string("\x00k", 2)}) {
    RequestBuilder r;
    r.header("x-api-key", value);
    EXPECT_EQ(p->verify(r.request()).code, "bad_credentials");
  }
  RequestBuilder dup;
  dup.header("x-api-key", "k").header("x-api-key", "k");
  EXPECT_EQ(p->verify(dup.request()).code, "bad_credentials");
}

TEST(EventBridge, RefusesBadConfigurations) {
  EXPECT_THROW(make("{}", {"k"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"type":"digest"})", {"k"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"type":"basic","header":"x"})", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"type":"basic"})", {"no-colon"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"type":"oauth"})", {}), std::invalid_argument);
}

}  // namespace
