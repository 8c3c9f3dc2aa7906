#include "slack.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::SlackProvider;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// api.slack.com "Verifying requests from Slack" worked example (a slash command).
constexpr const char* kSecret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr int64_t kTs = 1531420618;
constexpr const char* kBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr const char* kSig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

SlackProvider make(std::vector<std::string> secrets = {kSecret}, int64_t tolerance_ms = 300'000) {
  return SlackProvider({tolerance_ms, std::move(secrets)});
}

// For tests about parsing, time and body handling (the digest is pinned by the docs vector).
std::string sign(std::string_view ts, std::string_view body, std::string_view secret = kSecret) {
  return "v0=" + crypto::toHex(crypto::hmac(crypto::Digest::Sha256, secret, "v0:", ts, ":", body));
}

inlet::sdk::Verdict run(const SlackProvider& p, std::string body, std::string sig,
                        std::string ts = std::to_string(kTs), int64_t now_s = kTs) {
  RequestBuilder r;
  r.body(std::move(body))
      .header("X-Slack-Signature", std::move(sig))
      .header("X-Slack-Request-Timestamp", std::move(ts))
      .receivedSeconds(now_s);
  return p.verify(r.request());
}

inlet::sdk::Verdict runSigned(const SlackProvider& p, const std::string& body) {
  return run(p, body, sign(std::to_string(kTs), body));
}

TEST(Slack, DocsVector) {
  auto v = run(make(), kBody, kSig);
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.event_type, "/webhook-collect");
  EXPECT_EQ(v.delivery_id, "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
  EXPECT_EQ(v.signed_timestamp_ms, kTs * 1000);
}

TEST(Slack, TamperedBodyWrongSecretRotation) {
  auto v = run(make(), std::string(kBody) + "&x=1", kSig);
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);
  EXPECT_EQ(run(make({"other"}), kBody, kSig).code, "signature_mismatch");
  EXPECT_EQ(run(make({"other", kSecret}), kBody, kSig).verdict, INLET_ACCEPT);
  // The timestamp is signed: changing it breaks the signature.
  EXPECT_EQ(run(make(), kBody, kSig, std::to_string(kTs + 1)).code, "signature_mismatch");
}

TEST(Slack, SymmetricWindowEdges) {
  auto p = make();
  EXPECT_EQ(run(p, kBody, kSig, std::to_string(kTs), kTs + 300).verdict, INLET_ACCEPT);
  EXPECT_EQ(run(p, kBody, kSig, std::to_string(kTs), kTs - 300).verdict, INLET_ACCEPT);
  auto v = run(p, kBody, kSig, std::to_string(kTs), kTs + 301);
  EXPECT_EQ(v.code, "timestamp_out_of_tolerance");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(run(p, kBody, kSig, std::to_string(kTs), kTs - 301).code, "timestamp_out_of_tolerance");
  // Custom tolerance.
  EXPECT_EQ(run(make({kSecret}, 60'000), kBody, kSig, std::to_string(kTs), kTs + 60).verdict,
            INLET_ACCEPT);
  EXPECT_EQ(run(make({kSecret}, 60'000), kBody, kSig, std::to_string(kTs), kTs + 61).code,
            "timestamp_out_of_tolerance");
}

TEST(Slack, HugeButNumericTimestampIsOutOfTolerance) {
  std::string ts = std::to_string(INT64_MAX);
  auto v = run(make(), kBody, sign(ts, kBody), ts);
  EXPECT_EQ(v.code, "timestamp_out_of_tolerance");
  EXPECT_EQ(run(make(), kBody, sign("0", kBody), "0").code, "timestamp_out_of_tolerance");
}

TEST(Slack, UrlVerificationAnswersTheChallenge) {
  auto p = make();
  std::string body =
      R"({"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"})";
  auto v = runSigned(p, body);
  EXPECT_EQ(v.verdict, INLET_RESPOND) << v.code << " " << v.detail;
  EXPECT_EQ(v.response_content_type, "application/json");
  EXPECT_EQ(v.response_body,
            R"({"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})");
}

TEST(Slack, UrlVerificationChallengeIsJsonEscaped) {
  auto v = runSigned(make(), R"({"type":"url_verification","challenge":"a\"b\\c\n\u0001é"})");
  ASSERT_EQ(v.verdict, INLET_RESPOND) << v.code;
  EXPECT_EQ(v.response_body, "{\"challenge\":\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"}");
}

TEST(Slack, UrlVerificationRejectsBadChallenges) {
  auto p = make();
  std::string big(1100, 'x');
  for (std::string body : {R"({"type":"url_verification","challenge":")" + big + R"("})",
                           std::string(R"({"type":"url_verification"})"),
                           std::string(R"({"type":"url_verification","challenge":42})")}) {
    auto v = runSigned(p, body);
    EXPECT_EQ(v.verdict, INLET_REJECT);
    EXPECT_EQ(v.code, "invalid_challenge");
    EXPECT_EQ(v.http_status, 400);
  }
  // The largest challenge that fits the 1024-byte buffer (with its NUL) is accepted whole.
  std::string fits(1023 - std::string(R"({"challenge":""})").size(), 'y');
  auto v = runSigned(p, R"({"type":"url_verification","challenge":")" + fits + R"("})");
  EXPECT_EQ(v.verdict, INLET_RESPOND);
  EXPECT_EQ(v.response_body.size(), 1023u);
  v = runSigned(p, R"({"type":"url_verification","challenge":")" + fits + R"(y"})");
  EXPECT_EQ(v.code, "invalid_challenge");
}

TEST(Slack, UnsignedUrlVerificationIsRejected) {
  auto v = run(make(), R"({"type":"url_verification","challenge":"x"})", kSig);
  EXPECT_EQ(v.code, "signature_mismatch");
}

TEST(Slack, EventsApiTypeAndId) {
  auto p = make();
  auto v = runSigned(
      p,
      R"({"type":"event_callback","event_id":"Ev123","event":{"type":"app_mention","text":"hi"}})");
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.event_type, "app_mention");
  EXPECT_EQ(v.delivery_id, "Ev123");
  v = runSigned(p, R"({"type":"app_rate_limited","event":"not an object"})");
  EXPECT_EQ(v.event_type, "app_rate_limited");
  EXPECT_EQ(v.delivery_id, "");
  // Authentic but not JSON: accepted, no ids.
  v = runSigned(p, "{not json");
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "");
  // Interactivity payloads are accepted without ids; a badly escaped command is just not an id.
  v = runSigned(p, "payload=%7B%22type%22%3A%22block_actions%22%7D");
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "");
  v = runSigned(p, "command=%2");
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "");
}

TEST(Slack, MissingHeaders) {
  RequestBuilder r;
  r.body(kBody).header("X-Slack-Request-Timestamp", std::to_string(kTs)).receivedSeconds(kTs);
  auto v = make().verify(r.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);

  RequestBuilder no_ts;
  no_ts.body(kBody).header("X-Slack-Signature", kSig).receivedSeconds(kTs);
  v = make().verify(no_ts.request());
  EXPECT_EQ(v.code, "malformed_signature");
  EXPECT_EQ(v.http_status, 400);
}

TEST(Slack, MalformedSignatures) {
  auto p = make();
  const std::string s = kSig;
  for (std::string bad :
       {std::string(""), std::string("v0="), s.substr(3), "v1=" + s.substr(3), "V0=" + s.substr(3),
        s.substr(0, s.size() - 1), s + "0", s + " ", " " + s, "v0=" + std::string(64, 'A'),
        "sha256=" + s.substr(3), "v0=" + s.substr(5) + "\xC3\xA9", std::string(1 << 20, 'v')}) {
    auto v = run(p, kBody, bad);
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 80);
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(Slack, MalformedTimestamps) {
  auto p = make();
  for (std::string bad :
       {std::string(""), std::string("abc"), std::string("-1531420618"), std::string("+1531420618"),
        std::string(" 1531420618"), std::string("1531420618 "), std::string("1531420618.5"),
        std::string("1531420618000000000000"), std::string("99999999999999999999"),
        std::string("\xC3\xA9"), std::string(100000, '9')}) {
    auto v = run(p, kBody, kSig, bad);
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 40);
  }
}

TEST(Slack, DuplicatedHeadersAreMalformed) {
  RequestBuilder r;
  r.body(kBody)
      .header("X-Slack-Signature", kSig)
      .header("x-slack-signature", kSig)
      .header("X-Slack-Request-Timestamp", std::to_string(kTs))
      .receivedSeconds(kTs);
  EXPECT_EQ(make().verify(r.request()).code, "malformed_signature");
  RequestBuilder t;
  t.body(kBody)
      .header("X-Slack-Signature", kSig)
      .header("X-Slack-Request-Timestamp", std::to_string(kTs))
      .header("X-Slack-Request-Timestamp", std::to_string(kTs))
      .receivedSeconds(kTs);
  EXPECT_EQ(make().verify(t.request()).code, "malformed_signature");
}

TEST(Slack, CreateValidatesOptions) {
  using inlet::sdk::Config;
  EXPECT_NE(SlackProvider::create(Config::parse(R"({"tolerance":"2m"})"), {{"s", "x"}}, {}),
            nullptr);
  EXPECT_THROW(SlackProvider::create(Config(), {}, {}), std::invalid_argument);
  EXPECT_THROW(SlackProvider::create(Config(), {{"s", ""}}, {}), std::invalid_argument);
}

}  // namespace
