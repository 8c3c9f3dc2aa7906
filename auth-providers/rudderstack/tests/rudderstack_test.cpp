#include "rudderstack.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::RudderStackProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::testing::RequestBuilder;

namespace {

// A track call as the RudderStack Webhook destination forwards it (event spec common fields).
const char kTrack[] =
    R"({"anonymousId":"a1","channel":"web","event":"Order Completed","messageId":)"
    R"("7c0ac6f9-1f6b-4b5e-9a9c-0c1f4f2f1d1a","originalTimestamp":"2024-01-01T00:00:00.000Z",)"
    R"("properties":{"revenue":30},"type":"track","userId":"u1"})";

std::unique_ptr<RudderStackProvider> make(const std::string& options,
                                          std::vector<std::string> secrets) {
  std::vector<Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return RudderStackProvider::create(Config::parse(options), s, Host());
}

RequestBuilder rudderRequest() {
  RequestBuilder r;
  r.body(kTrack).header("user-agent", "RudderLabs").header("content-type", "application/json");
  return r;
}

TEST(RudderStack, BearerDefault) {
  auto p = make("{}", {"rs-token"});
  auto r = rudderRequest();
  r.header("authorization", "Bearer rs-token");
  auto v = p->verify(r.request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.delivery_id, "7c0ac6f9-1f6b-4b5e-9a9c-0c1f4f2f1d1a");
  EXPECT_EQ(v.event_type, "track");

  auto wrong = rudderRequest();
  wrong.header("authorization", "Bearer rs-tokeN");
  auto w = p->verify(wrong.request());
  EXPECT_EQ(w.code, "bad_credentials");
  EXPECT_EQ(w.http_status, 401);
  EXPECT_EQ(p->verify(rudderRequest().request()).code, "missing_credentials");
}

TEST(RudderStack, Basic) {
  auto p = make(R"({"scheme":"basic"})", {"rudder:secret"});
  auto r = rudderRequest();
  r.header("authorization", "Basic " + inlet::sdk::crypto::toBase64("rudder:secret"));
  EXPECT_EQ(p->verify(r.request()).verdict, INLET_ACCEPT);
  auto garbled = rudderRequest();
  garbled.header("authorization", "Basic cnVkZGVy");  // "rudder": no colon
  EXPECT_EQ(p->verify(garbled.request()).code, "bad_credentials");
}

TEST(RudderStack, CustomHeaderWithRotation) {
  auto p = make(R"({"scheme":"header","header":"X-Signing-Key"})", {"cur", "prev"});
  auto r = rudderRequest();
  r.header("X-Signing-Key", "prev");
  EXPECT_EQ(p->verify(r.request()).verdict, INLET_ACCEPT);
  auto dup = rudderRequest();
  dup.header("x-signing-key", "cur").header("x-signing-key", "evil");
  EXPECT_EQ(p->verify(dup.request()).code, "bad_credentials");
  auto huge = rudderRequest();
  huge.header("x-signing-key", std::string(1 << 20, 'x'));
  EXPECT_EQ(p->verify(huge.request()).code, "bad_credentials");
  auto non_ascii = rudderRequest();
  non_ascii.header("x-signing-key", "cur\xE2\x80\x8B");
  EXPECT_EQ(p->verify(non_ascii.request()).code, "bad_credentials");
}

TEST(RudderStack, NonEventBodiesAcceptedWithoutIds) {
  auto p = make("{}", {"t"});
  for (std::string body : {std::string(""), std::string("[{\"messageId\":\"x\"}]"),
                           std::string("{"), std::string("{\"messageId\":1,\"type\":[]}")}) {
    RequestBuilder r;
    r.body(body).header("authorization", "Bearer t");
    auto v = p->verify(r.request());
    EXPECT_EQ(v.verdict, INLET_ACCEPT);
    EXPECT_TRUE(v.delivery_id.empty());
  }
}

TEST(RudderStack, RefusesBadConfigurations) {
  EXPECT_THROW(make(R"({"scheme":"header"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"scheme":"query"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make(R"({"header":"x-key"})", {"t"}), std::invalid_argument);
  EXPECT_THROW(make("{}", {}), std::invalid_argument);
}

}  // namespace
