#include "shopify.h"

#include <gtest/gtest.h>
#include <inlet/testing/request.h>

using inlet::auth::ShopifyProvider;
using inlet::testing::RequestBuilder;

namespace {

// Shopify/shopify-app-js webhooks tests and providers.md 2.8.
constexpr const char* kSecret = "test_secret_key";
constexpr const char* kBody = R"({"foo": "bar"})";
constexpr const char* kSig = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";

ShopifyProvider make(std::vector<std::string> secrets = {kSecret}, bool require_headers = false) {
  return ShopifyProvider({require_headers, std::move(secrets)});
}

RequestBuilder request(std::string sig = kSig, std::string body = kBody) {
  RequestBuilder r;
  r.body(std::move(body)).header("X-Shopify-Hmac-Sha256", std::move(sig));
  return r;
}

RequestBuilder& withSdkHeaders(RequestBuilder& r) {
  return r.header("X-Shopify-Topic", "orders/create")
      .header("X-Shopify-Shop-Domain", "example.myshopify.com")
      .header("X-Shopify-API-Version", "2024-10")
      .header("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
}

TEST(Shopify, OfficialVector) {
  auto r = request();
  withSdkHeaders(r).header("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5");
  auto v = make().verify(r.request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
  EXPECT_EQ(v.event_type, "orders/create");
}

TEST(Shopify, EventIdIsTheFallbackDeliveryId) {
  auto r = request();
  r.header("X-Shopify-Event-Id", "98880550-7158-44d4-b7cd-2c97c8a091b5");
  auto v = make().verify(r.request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.delivery_id, "98880550-7158-44d4-b7cd-2c97c8a091b5");
  EXPECT_EQ(v.event_type, "");
}

TEST(Shopify, DecodedBytesAreCompared) {
  // The same digest without its padding decodes to the same bytes: accepted.
  EXPECT_EQ(make().verify(request("B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g").request()).verdict,
            INLET_ACCEPT);
  // One changed character is a different digest.
  EXPECT_EQ(make().verify(request("C23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=").request()).code,
            "signature_mismatch");
}

TEST(Shopify, TamperedBodyWrongSecretRotation) {
  auto v = make().verify(request(kSig, R"({"foo":"bar"})").request());
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);
  EXPECT_EQ(make({"other"}).verify(request().request()).code, "signature_mismatch");
  EXPECT_EQ(make({"new", kSecret}).verify(request().request()).verdict, INLET_ACCEPT);
}

TEST(Shopify, RequireHeaders) {
  auto p = make({kSecret}, /*require_headers=*/true);
  auto ok = request();
  withSdkHeaders(ok);
  EXPECT_EQ(p.verify(ok.request()).verdict, INLET_ACCEPT);

  auto bare = request();
  auto v = p.verify(bare.request());
  EXPECT_EQ(v.code, "missing_headers");
  EXPECT_EQ(v.http_status, 400);
  EXPECT_NE(v.message.find("x-shopify-shop-domain"), std::string::npos);

  auto empty_topic = request();
  empty_topic.header("X-Shopify-Topic", "")
      .header("X-Shopify-Shop-Domain", "example.myshopify.com")
      .header("X-Shopify-API-Version", "2024-10")
      .header("X-Shopify-Webhook-Id", "id");
  EXPECT_EQ(p.verify(empty_topic.request()).code, "missing_headers");
  // Off by default.
  EXPECT_EQ(make().verify(bare.request()).verdict, INLET_ACCEPT);
}

TEST(Shopify, MissingHeader) {
  RequestBuilder r;
  r.body(kBody);
  auto v = make().verify(r.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);
}

TEST(Shopify, MalformedHeaders) {
  auto p = make();
  const std::string s = kSig;
  for (std::string bad : {
           std::string(""),
           std::string("="),
           std::string("076ded5cdebcd60674a8858d46b82dcc113d5d20e8e72694bbac1f9a1bb76bb8"),  // hex
           "sha256=" + s,
           s.substr(0, 40),
           s + "AAAA",
           " " + s,
           s + " ",
           s.substr(0, 42) + "\xC3\xA9",
           s.substr(0, 43) + "==",
           std::string(1 << 20, 'A'),
       }) {
    auto v = p.verify(request(bad).request());
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 80);
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(Shopify, DuplicatedHeaderIsMalformed) {
  auto r = request();
  r.header("x-shopify-hmac-sha256", kSig);
  EXPECT_EQ(make().verify(r.request()).code, "malformed_signature");
}

TEST(Shopify, CreateValidatesOptions) {
  using inlet::sdk::Config;
  EXPECT_NE(ShopifyProvider::create(Config::parse(R"({"require_headers":true})"), {{"s", "x"}}, {}),
            nullptr);
  EXPECT_THROW(ShopifyProvider::create(Config(), {}, {}), std::invalid_argument);
  EXPECT_THROW(ShopifyProvider::create(Config(), {{"s", ""}}, {}), std::invalid_argument);
}

}  // namespace
