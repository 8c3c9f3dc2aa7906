#include "twilio.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::TwilioProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::sdk::Verdict;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// twilio-python tests/unit/test_request_validator.py (providers.md §2.10).
const char kToken[] = "12345";
const char kUrl[] = "https://mycompany.com/myapp.php?foo=1&bar=2";
// The SDK's params, form-encoded as Twilio posts them ('+' in values becomes %2B).
const char kForm[] =
    "CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%"
    "2B14158675309";
const char kExpected[] = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const char kJsonBody[] = R"({"property": "value", "boolean": true})";
const char kBodyHash[] = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

std::unique_ptr<TwilioProvider> make(std::vector<std::string> secrets = {kToken}) {
  std::vector<Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return TwilioProvider::create(Config(), s, Host());
}

RequestBuilder form(const std::string& url, const std::string& body, const std::string& signature) {
  RequestBuilder r;
  r.url(url)
      .body(body)
      .header("Content-Type", "application/x-www-form-urlencoded")
      .header("X-Twilio-Signature", signature)
      .header("I-Twilio-Idempotency-Token", "a6f2b8b1-2c4c-4c7e-9b43-1b9f8f0e2d10");
  return r;
}

void expectCode(const Verdict& v, const std::string& code, int status) {
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, code) << v.message;
  EXPECT_EQ(v.http_status, status);
}

TEST(Twilio, SdkVector) {
  auto v = make()->verify(form(kUrl, kForm, kExpected).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "a6f2b8b1-2c4c-4c7e-9b43-1b9f8f0e2d10");
}

TEST(Twilio, SdkComputeSignature) {
  TwilioProvider::Params params = {{"CallSid", "CA1234567890ABCDE"},
                                   {"Digits", "1234"},
                                   {"From", "+14158675309"},
                                   {"To", "+18005551212"},
                                   {"Caller", "+14158675309"}};
  auto text = TwilioProvider::signedString(kUrl, params);
  EXPECT_EQ(crypto::toBase64(crypto::hmac(crypto::Digest::Sha1, kToken, text)), kExpected);
}

TEST(Twilio, SdkDuplicateParameters) {
  // MultiDict / QueryDict case: Digits twice, values sorted.
  auto v = make()->verify(form(kUrl, "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
                               "IK+Dwps556ElfBT0I3Rgjkr1wJU=")
                              .request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code;
}

TEST(Twilio, SdkPortVariants) {
  auto p = make();
  // https with an explicit port: the SDK strips it.
  EXPECT_EQ(
      p->verify(
           form("https://mycompany.com:1234/myapp.php?foo=1&bar=2", kForm, kExpected).request())
          .verdict,
      INLET_ACCEPT);
  // http with an explicit port, signed with that port.
  EXPECT_EQ(p->verify(form("http://mycompany.com:1234/myapp.php?foo=1&bar=2", kForm,
                           "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=")
                          .request())
                .verdict,
            INLET_ACCEPT);
  // no port in the URL, signed with the default port added.
  EXPECT_EQ(p->verify(form(kUrl, kForm, "kvajT1Ptam85bY51eRf/AJRuM3w=").request()).verdict,
            INLET_ACCEPT);
  EXPECT_EQ(p->verify(form("http://mycompany.com/myapp.php?foo=1&bar=2", kForm,
                           "0ZXoZLH/DfblKGATFgpif+LLRf4=")
                          .request())
                .verdict,
            INLET_ACCEPT);
  // …but not a port that is neither stripped nor the default.
  expectCode(p->verify(form("https://mycompany.com:8443/myapp.php?foo=1&bar=2", kForm,
                            "kvajT1Ptam85bY51eRf/AJRuM3w=")
                           .request()),
             "signature_mismatch", 401);
}

TEST(Twilio, SdkJsonBody) {
  RequestBuilder r;
  r.url(std::string(kUrl) + "&bodySHA256=" + kBodyHash)
      .body(kJsonBody)
      .header("content-type", "application/json")
      .header("x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4=");
  auto v = make()->verify(r.request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(crypto::toHex(crypto::hash(crypto::Digest::Sha256, kJsonBody)), kBodyHash);
}

TEST(Twilio, JsonBodyTamperedOrHashMissing) {
  auto p = make();
  RequestBuilder tampered;
  tampered.url(std::string(kUrl) + "&bodySHA256=" + kBodyHash)
      .body(R"({"property": "value", "boolean": false})")
      .header("content-type", "application/json")
      .header("x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4=");
  expectCode(p->verify(tampered.request()), "signature_mismatch", 401);
  // Same URL signature, body hash in upper case: twilio-python compares the lower-case text.
  std::string upper = kBodyHash;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  RequestBuilder up;
  up.url(std::string(kUrl) + "&bodySHA256=" + upper)
      .body(kJsonBody)
      .header("content-type", "application/json")
      .header("x-twilio-signature",
              crypto::toBase64(crypto::hmac(crypto::Digest::Sha1, kToken,
                                            std::string(kUrl) + "&bodySHA256=" + upper)));
  expectCode(p->verify(up.request()), "signature_mismatch", 401);
  // JSON without bodySHA256: the signature would not cover the body.
  RequestBuilder bare;
  bare.url(kUrl)
      .body(kJsonBody)
      .header("content-type", "application/json")
      .header("x-twilio-signature",
              crypto::toBase64(crypto::hmac(crypto::Digest::Sha1, kToken, kUrl)));
  expectCode(p->verify(bare.request()), "malformed_signature", 400);
  // bodySHA256 twice.
  RequestBuilder twice;
  twice.url(std::string(kUrl) + "&bodySHA256=" + kBodyHash + "&bodySHA256=" + kBodyHash)
      .body(kJsonBody)
      .header("x-twilio-signature", "a9nBmqA0ju/hNViExpshrM61xv4=");
  expectCode(p->verify(twice.request()), "malformed_signature", 400);
}

// twilio.com/docs/usage/webhooks/webhooks-security example (via providers.md, recomputed).
TEST(Twilio, DocsExample) {
  auto v = make()->verify(form(kUrl,
                               "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
                               "&From=%2B12349013030&To=%2B18005551212",
                               "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
                              .request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code;
}

TEST(Twilio, ParameterOrderInTheBodyDoesNotMatter) {
  auto v = make()->verify(form(kUrl,
                               "Caller=%2B14158675309&To=%2B18005551212&From=%2B14158675309&Digits="
                               "1234&CallSid=CA1234567890ABCDE",
                               kExpected)
                              .request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
}

TEST(Twilio, TamperedWrongTokenRotation) {
  expectCode(make()->verify(form(kUrl, std::string(kForm) + "&Extra=1", kExpected).request()),
             "signature_mismatch", 401);
  expectCode(make()->verify(
                 form("https://mycompany.com/myapp.php?foo=1&bar=3", kForm, kExpected).request()),
             "signature_mismatch", 401);
  // '+' not encoded would be a space: a different value.
  expectCode(make()->verify(form(kUrl,
                                 "CallSid=CA1234567890ABCDE&Digits=1234&From=+14158675309&To=%"
                                 "2B18005551212&Caller=%2B14158675309",
                                 kExpected)
                                .request()),
             "signature_mismatch", 401);
  auto wrong = make({"54321"})->verify(form(kUrl, kForm, kExpected).request());
  expectCode(wrong, "signature_mismatch", 401);
  EXPECT_EQ(wrong.detail.find("54321"), std::string::npos);
  EXPECT_EQ(make({"new-token", kToken})->verify(form(kUrl, kForm, kExpected).request()).verdict,
            INLET_ACCEPT);
}

TEST(Twilio, Sha256SignatureSettings) {
  const std::string shared_key = "rule-shared-key";
  TwilioProvider::Params params = {{"CallSid", "CA1234567890ABCDE"},
                                   {"Digits", "1234"},
                                   {"From", "+14158675309"},
                                   {"To", "+18005551212"},
                                   {"Caller", "+14158675309"}};
  std::string sig = crypto::toBase64(
      crypto::hmac(crypto::Digest::Sha256, shared_key, TwilioProvider::signedString(kUrl, params)));
  auto r = form(kUrl, kForm, sig);
  r.header("X-Twilio-Webhooks-Signature-Settings", "key=KS0123,algorithm=HMAC_SHA256");
  auto p = make({kToken, shared_key});
  EXPECT_EQ(p->verify(r.request()).verdict, INLET_ACCEPT);
  // Without the settings header, a 32-byte signature is not an HMAC-SHA1.
  expectCode(p->verify(form(kUrl, kForm, sig).request()), "malformed_signature", 400);
  // The SHA-1 signature under a SHA-256 setting is the wrong size.
  auto r2 = form(kUrl, kForm, kExpected);
  r2.header("X-Twilio-Webhooks-Signature-Settings", "key=KS0123,algorithm=HMAC_SHA256");
  expectCode(p->verify(r2.request()), "malformed_signature", 400);
  for (const char* bad : {"", "key=KS0123", "algorithm=HMAC_MD5", "algorithm=hmac_sha256"}) {
    auto r3 = form(kUrl, kForm, sig);
    r3.header("X-Twilio-Webhooks-Signature-Settings", bad);
    expectCode(p->verify(r3.request()), "malformed_signature", 400);
  }
  // Wrong key.
  expectCode(make({kToken})->verify(r.request()), "signature_mismatch", 401);
}

TEST(Twilio, EventType) {
  auto sms = "MessageSid=SM1&MessageStatus=delivered&AccountSid=AC1";
  TwilioProvider::Params params = *TwilioProvider::parseForm(sms);
  std::string sig = crypto::toBase64(
      crypto::hmac(crypto::Digest::Sha1, kToken, TwilioProvider::signedString(kUrl, params)));
  auto v = make()->verify(form(kUrl, sms, sig).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "delivered");
  EXPECT_EQ(make()->verify(form(kUrl, kForm, kExpected).request()).event_type, "");
}

TEST(Twilio, MissingAndMalformedSignatureHeaders) {
  auto p = make();
  RequestBuilder none;
  none.url(kUrl).body(kForm).header("content-type", "application/x-www-form-urlencoded");
  expectCode(p->verify(none.request()), "missing_signature", 400);
  for (const auto& bad : {std::string(""), std::string("RSOYDt4T1cUTdK1PDd93"), std::string("!!!!"),
                          std::string("RSOYDt4T1cUTdK1PDd93/VVr8B8=AAAA"), std::string(5000, 'A'),
                          std::string("RSOYDt4T1cUTdK1PDd93/VVr8B8=\xC3\xA9"),
                          std::string(" RSOYDt4T1cUTdK1PDd93/VVr8B8=")}) {
    expectCode(p->verify(form(kUrl, kForm, bad).request()), "malformed_signature", 400);
  }
  auto dup = form(kUrl, kForm, kExpected);
  dup.header("x-twilio-signature", kExpected);
  expectCode(p->verify(dup.request()), "malformed_signature", 400);
}

TEST(Twilio, HostileBodies) {
  auto p = make();
  expectCode(p->verify(form(kUrl, "a=%zz", kExpected).request()), "malformed_signature", 400);
  expectCode(p->verify(form(kUrl, "a=%4", kExpected).request()), "malformed_signature", 400);
  expectCode(p->verify(form(kUrl, std::string(1 << 20, '&'), kExpected).request()),
             "signature_mismatch", 401);
  expectCode(p->verify(form(kUrl, "\xff\xfe=\x01", kExpected).request()), "signature_mismatch",
             401);
  // Unrelated bad escapes in the URL do not break reading it.
  expectCode(p->verify(form("https://mycompany.com/x?a=%zz", kForm, kExpected).request()),
             "signature_mismatch", 401);
}

TEST(Twilio, UrlVariants) {
  using V = std::vector<std::string>;
  EXPECT_EQ(TwilioProvider::urlVariants("https://a.com/x?y=1"),
            (V{"https://a.com/x?y=1", "https://a.com:443/x?y=1"}));
  EXPECT_EQ(TwilioProvider::urlVariants("http://a.com:8080/x"),
            (V{"http://a.com/x", "http://a.com:8080/x"}));
  EXPECT_EQ(TwilioProvider::urlVariants("https://a.com"),
            (V{"https://a.com", "https://a.com:443"}));
  EXPECT_EQ(TwilioProvider::urlVariants("http://[::1]:8080/x"),
            (V{"http://[::1]/x", "http://[::1]:8080/x"}));
  EXPECT_EQ(TwilioProvider::urlVariants("http://[::1]/x"),
            (V{"http://[::1]/x", "http://[::1]:80/x"}));
  EXPECT_EQ(TwilioProvider::urlVariants("/relative"), (V{"/relative"}));
}

TEST(Twilio, NeedsASecret) {
  EXPECT_THROW(make({}), std::invalid_argument);
  EXPECT_THROW(make({""}), std::invalid_argument);
}

}  // namespace
