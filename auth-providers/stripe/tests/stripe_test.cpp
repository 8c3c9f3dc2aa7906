#include "stripe.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::StripeProvider;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// stripe-python tests/test_webhook.py fixture (DUMMY_WEBHOOK_PAYLOAD, DUMMY_WEBHOOK_SECRET). Stripe
// publishes no digest; this one is computed with
//   { printf '1700000000.'; cat payload; } | openssl dgst -sha256 -hmac whsec_test_secret
constexpr const char* kSecret = "whsec_test_secret";
constexpr const char* kBody = R"({
  "id": "evt_test_webhook",
  "object": "event",
  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }
})";
constexpr int64_t kT = 1700000000;
constexpr const char* kSig = "3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd";

StripeProvider make(std::vector<std::string> secrets = {kSecret}, int64_t tolerance_ms = 300'000,
                    bool reject_future = false) {
  return StripeProvider({tolerance_ms, reject_future, std::move(secrets)});
}

// For tests that are about parsing and time, not about the digest (pinned by the vector above).
std::string sign(int64_t t, std::string_view body, std::string_view secret = kSecret) {
  return crypto::toHex(crypto::hmac(crypto::Digest::Sha256, secret, std::to_string(t), ".", body));
}

inlet::sdk::Verdict run(const StripeProvider& p, std::string header, int64_t now_s = kT,
                        std::string body = kBody) {
  RequestBuilder r;
  r.body(std::move(body)).header("Stripe-Signature", std::move(header)).receivedSeconds(now_s);
  return p.verify(r.request());
}

std::string header(int64_t t = kT, std::string sig = kSig) {
  return "t=" + std::to_string(t) + ",v1=" + sig;
}

TEST(Stripe, SdkFixtureVector) {
  auto v = run(make(), header());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "evt_test_webhook");
  EXPECT_EQ(v.event_type, "");  // the fixture has no type
  EXPECT_EQ(v.signed_timestamp_ms, kT * 1000);
}

TEST(Stripe, ExtractsIdAndType) {
  std::string body = R"({"id":"evt_1","type":"invoice.paid"})";
  auto v =
      run(make(), header(kT, "46dc069361a7691082640523fa33fe5d6c8c88d5f5e257cdf8cf11539d166595"),
          kT, body);
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "evt_1");
  EXPECT_EQ(v.event_type, "invoice.paid");
}

// A lone surrogate anywhere in the event (a customer's name cut inside an emoji) once hid the
// id, and with it `dedup: auto`: Poco's parser refuses the whole body.
TEST(Stripe, IdsBesideAValuePocoCannotHold) {
  std::string body =
      R"({"id":"evt_2","type":"customer.updated","data":{"name":"Ana \ud83d","n":1e999}})";
  auto v = run(make(), header(kT, sign(kT, body)), kT, body);
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "evt_2");
  EXPECT_EQ(v.event_type, "customer.updated");
}

TEST(Stripe, NonJsonBodyStillAcceptedWithoutIds) {
  auto v =
      run(make(), header(kT, "0e28b05015734fffa1e02f8b443678fbe189e902dcfeb61f9c18714551e168f4"),
          kT, "not json");
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.delivery_id, "");
  EXPECT_EQ(v.event_type, "");
}

TEST(Stripe, TamperedBodyAndWrongSecret) {
  auto v = run(make(), header(), kT, std::string(kBody) + " ");
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);
  EXPECT_EQ(run(make({"whsec_other"}), header()).code, "signature_mismatch");
  // The key is the whole string: without the prefix it is another key.
  EXPECT_EQ(run(make({"test_secret"}), header()).code, "signature_mismatch");
  // A different t is a different message.
  EXPECT_EQ(run(make(), header(kT + 1)).code, "signature_mismatch");
}

TEST(Stripe, RotationSecretsAndSeveralV1) {
  // Several configured secrets, one v1.
  EXPECT_EQ(run(make({"whsec_new", kSecret}), header()).verdict, INLET_ACCEPT);
  // One secret, several v1 (Stripe signs with every active secret); order does not matter.
  std::string other = sign(kT, kBody, "whsec_rolled");
  EXPECT_EQ(run(make(), "t=1700000000,v1=" + other + ",v1=" + kSig).verdict, INLET_ACCEPT);
  EXPECT_EQ(run(make(), "t=1700000000,v1=" + std::string(kSig) + ",v1=" + other).verdict,
            INLET_ACCEPT);
  // stripe-python test_header_contains_valid_signature: a junk v1 beside a valid one is fine.
  EXPECT_EQ(run(make(), header() + ",v1=bad_signature").verdict, INLET_ACCEPT);
}

TEST(Stripe, OtherSchemesAreIgnored) {
  // v0 carrying the right digest must not be accepted: no downgrade to another scheme.
  auto v = run(make(), "t=1700000000,v0=" + std::string(kSig));
  EXPECT_EQ(v.code, "malformed_signature");
  EXPECT_EQ(run(make(), "t=1700000000,v0=00,v1=" + std::string(kSig) + ",x=y").verdict,
            INLET_ACCEPT);
  // Item order does not matter.
  EXPECT_EQ(run(make(), "v1=" + std::string(kSig) + ",t=1700000000").verdict, INLET_ACCEPT);
}

TEST(Stripe, ToleranceIsAgeOnlyByDefault) {
  auto p = make();
  EXPECT_EQ(run(p, header(), kT + 300).verdict, INLET_ACCEPT);  // exactly at tolerance
  auto v = run(p, header(), kT + 301);
  EXPECT_EQ(v.code, "timestamp_out_of_tolerance");
  EXPECT_EQ(v.http_status, 401);
  // The SDKs do not reject future timestamps.
  EXPECT_EQ(run(p, header(), kT - 100000).verdict, INLET_ACCEPT);
  // Sub-second receive time is floored, as Math.floor(Date.now() / 1000).
  RequestBuilder r;
  r.body(kBody).header("Stripe-Signature", header()).receivedMs((kT + 300) * 1000 + 999);
  EXPECT_EQ(p.verify(r.request()).verdict, INLET_ACCEPT);
}

TEST(Stripe, RejectFutureOption) {
  auto p = make({kSecret}, 300'000, /*reject_future=*/true);
  EXPECT_EQ(run(p, header(), kT - 300).verdict, INLET_ACCEPT);
  EXPECT_EQ(run(p, header(), kT - 301).code, "timestamp_out_of_tolerance");
  EXPECT_EQ(run(p, header(), kT + 301).code, "timestamp_out_of_tolerance");
}

TEST(Stripe, CustomAndDisabledTolerance) {
  EXPECT_EQ(run(make({kSecret}, 10'000), header(), kT + 10).verdict, INLET_ACCEPT);
  EXPECT_EQ(run(make({kSecret}, 10'000), header(), kT + 11).code, "timestamp_out_of_tolerance");
  // 0 disables the check, as stripe-node (tolerance > 0 && age > tolerance).
  EXPECT_EQ(run(make({kSecret}, 0), header(), kT + 100000000).verdict, INLET_ACCEPT);
}

TEST(Stripe, HugeButNumericTimestamp) {
  // Fits int64: a far-future t verifies only with a matching signature; no overflow anywhere.
  int64_t t = INT64_MAX;
  auto v = run(make(), "t=" + std::to_string(t) + ",v1=" + sign(t, kBody));
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.signed_timestamp_ms, 0);
  EXPECT_EQ(
      run(make({kSecret}, 300'000, true), "t=" + std::to_string(t) + ",v1=" + sign(t, kBody)).code,
      "timestamp_out_of_tolerance");
  // t = 0 is simply old.
  EXPECT_EQ(run(make(), "t=0,v1=" + sign(0, kBody)).code, "timestamp_out_of_tolerance");
}

TEST(Stripe, MissingHeader) {
  RequestBuilder r;
  r.body(kBody).receivedSeconds(kT);
  auto v = make().verify(r.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);
}

TEST(Stripe, MalformedHeaders) {
  auto p = make();
  const std::string s = kSig;
  std::string many_v1 = "t=1700000000";
  while (many_v1.size() < 9000) many_v1 += ",v1=" + s;
  for (std::string bad : {
           std::string(""),
           std::string("bad_header"),
           std::string("i'm not even a real header"),
           "v1=" + s,                                  // no t
           std::string("t=1700000000"),                // no v1
           std::string("t=1700000000,"),               // truncated list
           std::string("t=1700000000,v1="),            // truncated value
           "t=1700000000,v1=" + s.substr(0, 63),       // truncated digest
           "t=1700000000,v1=" + s + ",",               // trailing separator
           "t=1700000000,,v1=" + s,                    // empty item
           "t=1700000000,=x,v1=" + s,                  // empty scheme
           "t=1700000000,v1=" + std::string(64, 'A'),  // upper-case hex only
           "t=1700000000, v1=" + s,                    // space
           "t=1700000000,v1=" + s + "\xC3\xA9",        // non-ASCII
           "t=1700000000,v1=" + s + "\t",              // control byte
           "t=,v1=" + s,                               // empty t
           "t=abc,v1=" + s,                            // non-numeric t
           "t=-1700000000,v1=" + s,                    // signed t
           "t=+1700000000,v1=" + s,                    // signed t
           "t=1700000000.5,v1=" + s,                   // fractional t
           "t=99999999999999999999,v1=" + s,           // overflowing t
           "t=1700000000,t=1700000000,v1=" + s,        // two t
           "T=1700000000,v1=" + s,                     // scheme names are case-sensitive
           many_v1,                                    // huge
       }) {
    auto v = run(p, bad);
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 80);
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(Stripe, WellFormedButWrongDigestIsMismatch) {
  EXPECT_EQ(run(make(), header(kT, std::string(64, '0'))).code, "signature_mismatch");
}

TEST(Stripe, DuplicatedHeaderIsMalformed) {
  RequestBuilder r;
  r.body(kBody).header("stripe-signature", header()).header("Stripe-Signature", header());
  r.receivedSeconds(kT);
  EXPECT_EQ(make().verify(r.request()).code, "malformed_signature");
}

TEST(Stripe, CreateValidatesOptions) {
  using inlet::sdk::Config;
  EXPECT_NE(StripeProvider::create(Config::parse(R"({"tolerance":"5m","reject_future":true})"),
                                   {{"s", kSecret}}, {}),
            nullptr);
  EXPECT_THROW(StripeProvider::create(Config(), {}, {}), std::invalid_argument);
  EXPECT_THROW(StripeProvider::create(Config(), {{"s", ""}}, {}), std::invalid_argument);
  EXPECT_THROW(
      StripeProvider::create(Config::parse(R"({"tolerance":"5 minutes"})"), {{"s", kSecret}}, {}),
      std::invalid_argument);
}

}  // namespace
