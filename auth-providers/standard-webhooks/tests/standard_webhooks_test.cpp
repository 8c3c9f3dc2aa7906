#include "standard_webhooks.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>
#include <openssl/evp.h>

using inlet::auth::StandardWebhooksProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::sdk::Verdict;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// Official vector (standard-webhooks spec and library tests; providers.md §2.9).
const char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const int64_t kTs = 1614265330;
const char kBody[] = R"({"test": 2432232314})";
const char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

// RFC 8032 §7.1, TEST 1: the Ed25519 key pair (and its signature of the empty message).
const char kRfcPrivate[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char kRfcPublic[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char kRfcEmptySig[] =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b4"
    "6bd25bf5f0595bbe24655141438e7a100b";
// RFC 8032 §7.1, TEST 2 (another key, to build a "wrong key" case).
const char kRfcPrivate2[] = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

std::unique_ptr<StandardWebhooksProvider> make(std::vector<std::string> secrets,
                                               const std::string& options = "{}") {
  std::vector<Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return StandardWebhooksProvider::create(Config::parse(options), s, Host());
}

RequestBuilder request(const std::string& signature, const std::string& prefix = "webhook-",
                       int64_t now = kTs, const std::string& body = kBody,
                       const std::string& ts = std::to_string(kTs), const std::string& id = kId) {
  RequestBuilder r;
  r.body(body)
      .header(prefix + "id", id)
      .header(prefix + "timestamp", ts)
      .header(prefix + "signature", signature)
      .receivedSeconds(now);
  return r;
}

void expectCode(const Verdict& v, const std::string& code, int status) {
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, code) << v.message;
  EXPECT_EQ(v.http_status, status);
}

std::string ed25519Sign(const std::string& private_hex, const std::string& message) {
  auto seed = crypto::fromHex(private_hex).value();
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), 32);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof(sig);
  bool ok = key && ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  EXPECT_TRUE(ok);
  return std::string(reinterpret_cast<char*>(sig), len);
}

std::string whpk(const char* public_hex) {
  return "whpk_" + crypto::toBase64(crypto::fromHex(public_hex).value());
}

std::string signedContent(const std::string& body = kBody) {
  return std::string(kId) + "." + std::to_string(kTs) + "." + body;
}

TEST(StandardWebhooks, OfficialVector) {
  auto p = make({kSecret});
  auto v = p->verify(request(kSignature).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, kId);
  EXPECT_EQ(v.signed_timestamp_ms, kTs * 1000);
  EXPECT_EQ(v.event_type, "");  // the vector's body has no "type"
}

TEST(StandardWebhooks, SvixHeaderFamily) {
  auto p = make({kSecret});
  EXPECT_EQ(p->verify(request(kSignature, "svix-").request()).verdict, INLET_ACCEPT);
  EXPECT_EQ(p->verify(request(kSignature, "Svix-").request()).verdict, INLET_ACCEPT);
}

TEST(StandardWebhooks, FamiliesAreNotMixed) {
  auto p = make({kSecret});
  RequestBuilder r;
  r.body(kBody)
      .header("webhook-id", kId)
      .header("svix-timestamp", std::to_string(kTs))
      .header("svix-signature", kSignature)
      .receivedSeconds(kTs);
  expectCode(p->verify(r.request()), "missing_signature", 400);
}

TEST(StandardWebhooks, SecretForms) {
  // Without the prefix, and without padding: the libraries accept both.
  for (const char* s :
       {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}) {
    auto p = make({s});
    EXPECT_EQ(p->verify(request(kSignature).request()).verdict, INLET_ACCEPT) << s;
  }
  // A key whose base64 needs padding, given unpadded.
  std::string key = "0123456789abcdefghijklmnopqrstuv";  // 32 bytes -> 44 chars with one '='
  std::string b64 = crypto::toBase64(key);
  ASSERT_EQ(b64.back(), '=');
  std::string unpadded = b64.substr(0, b64.size() - 1);
  auto p = make({"whsec_" + unpadded});
  std::string sig =
      "v1," + crypto::toBase64(crypto::hmac(crypto::Digest::Sha256, key, signedContent()));
  EXPECT_EQ(p->verify(request(sig).request()).verdict, INLET_ACCEPT);
}

TEST(StandardWebhooks, TypeIsTakenFromTheVerifiedBody) {
  auto p = make({kSecret});
  std::string body = R"({"type":"invoice.paid","data":{}})";
  std::string sig = "v1," + crypto::toBase64(crypto::hmac(
                                crypto::Digest::Sha256,
                                crypto::fromBase64("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").value(),
                                signedContent(body)));
  auto v = p->verify(request(sig, "webhook-", kTs, body).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "invoice.paid");
}

TEST(StandardWebhooks, TamperedBodyAndWrongSecret) {
  auto p = make({kSecret});
  auto v = p->verify(request(kSignature, "webhook-", kTs, R"({"test": 2432232315})").request());
  expectCode(v, "signature_mismatch", 401);
  EXPECT_NE(v.detail.find("expected v1,"), std::string::npos);
  EXPECT_EQ(v.detail.find("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::string::npos);
  auto other = make({"whsec_" + crypto::toBase64("another key of 24 bytes!")});
  expectCode(other->verify(request(kSignature).request()), "signature_mismatch", 401);
  // Tampered id or timestamp are covered too.
  expectCode(
      p->verify(
          request(kSignature, "webhook-", kTs, kBody, std::to_string(kTs), "msg_other").request()),
      "signature_mismatch", 401);
  expectCode(
      p->verify(request(kSignature, "webhook-", kTs, kBody, std::to_string(kTs + 1)).request()),
      "signature_mismatch", 401);
}

TEST(StandardWebhooks, RotationAndSignatureLists) {
  auto p = make({"whsec_" + crypto::toBase64("the new key, 24 bytes..."), kSecret});
  EXPECT_EQ(p->verify(request(kSignature).request()).verdict, INLET_ACCEPT);
  const std::string bad = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  for (std::string list :
       {bad + " " + kSignature, std::string(kSignature) + " " + bad,
        "v2,abc " + std::string(kSignature), "v1a,xyz " + std::string(kSignature),
        "garbage " + std::string(kSignature), std::string(kSignature) + "  " + bad,
        " " + std::string(kSignature) + " "}) {
    auto v = p->verify(request(list).request());
    EXPECT_EQ(v.verdict, INLET_ACCEPT) << list << " -> " << v.code;
  }
  expectCode(p->verify(request(bad).request()), "signature_mismatch", 401);
  expectCode(p->verify(request(bad + " v2,xyz").request()), "signature_mismatch", 401);
}

TEST(StandardWebhooks, MissingHeaders) {
  auto p = make({kSecret});
  expectCode(p->verify(RequestBuilder().body(kBody).request()), "missing_signature", 400);
  for (const char* drop : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    RequestBuilder r;
    r.body(kBody).receivedSeconds(kTs);
    if (std::string(drop) != "webhook-id") r.header("webhook-id", kId);
    if (std::string(drop) != "webhook-timestamp")
      r.header("webhook-timestamp", std::to_string(kTs));
    if (std::string(drop) != "webhook-signature") r.header("webhook-signature", kSignature);
    auto v = p->verify(r.request());
    expectCode(v, "missing_signature", 400);
    EXPECT_NE(v.message.find(drop), std::string::npos);
  }
}

TEST(StandardWebhooks, DuplicatedHeadersAreMalformed) {
  auto p = make({kSecret});
  for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    auto r = request(kSignature);
    if (std::string(name) == "webhook-id") r.header(name, kId);
    if (std::string(name) == "webhook-timestamp") r.header(name, std::to_string(kTs));
    if (std::string(name) == "webhook-signature") r.header(name, kSignature);
    expectCode(p->verify(r.request()), "malformed_signature", 400);
  }
}

TEST(StandardWebhooks, TruncatedAndGarbledSignatureLists) {
  auto p = make({kSecret});
  for (std::string sig :
       {std::string(""), std::string(" "), std::string("v1"), std::string("v1,"),
        std::string("v1,g0hM9SsE+OTPJTGt"),
        std::string("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O"), std::string("v1,!!!!"),
        std::string("v1;g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        std::string("V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        std::string("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        std::string("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\xC3\xA9"),
        std::string("v1a,AAAA"), std::string(",,,,")}) {
    auto v = p->verify(request(sig).request());
    SCOPED_TRACE(sig);
    expectCode(v, "malformed_signature", 400);
  }
}

// Signatures are compared as decoded bytes (as the Python and Go libraries do), so encodings of
// the same 32 bytes that differ only in padding or alphabet are the same signature.
TEST(StandardWebhooks, EncodingVariantsOfTheSameBytesAreAccepted) {
  auto p = make({kSecret});
  for (const char* sig : {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
                          "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE==",
                          "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE="}) {
    EXPECT_EQ(p->verify(request(sig).request()).verdict, INLET_ACCEPT) << sig;
  }
}

TEST(StandardWebhooks, HugeAndOverlongLists) {
  auto p = make({kSecret});
  expectCode(p->verify(request(std::string(kSignature) + " " + std::string(20000, 'a')).request()),
             "malformed_signature", 400);
  std::string many;
  for (int i = 0; i < 40; ++i) many += "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= ";
  expectCode(p->verify(request(many + kSignature).request()), "malformed_signature", 400);
}

TEST(StandardWebhooks, TimestampWindowEdges) {
  auto p = make({kSecret});
  // The signature is over kTs; only the receive time moves.
  EXPECT_EQ(p->verify(request(kSignature, "webhook-", kTs + 300).request()).verdict, INLET_ACCEPT);
  EXPECT_EQ(p->verify(request(kSignature, "webhook-", kTs - 300).request()).verdict, INLET_ACCEPT);
  expectCode(p->verify(request(kSignature, "webhook-", kTs + 301).request()),
             "timestamp_out_of_tolerance", 401);
  expectCode(p->verify(request(kSignature, "webhook-", kTs - 301).request()),
             "timestamp_out_of_tolerance", 401);
  auto r = request(kSignature);
  r.receivedMs(kTs * 1000 + 300'001);
  expectCode(p->verify(r.request()), "timestamp_out_of_tolerance", 401);

  auto wide = make({kSecret}, R"({"tolerance":"10m"})");
  EXPECT_EQ(wide->verify(request(kSignature, "webhook-", kTs + 600).request()).verdict,
            INLET_ACCEPT);
  expectCode(wide->verify(request(kSignature, "webhook-", kTs + 601).request()),
             "timestamp_out_of_tolerance", 401);
}

TEST(StandardWebhooks, StaleTimestampWithBadSignatureIsStale) {
  auto p = make({kSecret});
  expectCode(
      p->verify(request("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "webhook-", kTs + 3600)
                    .request()),
      "timestamp_out_of_tolerance", 401);
}

TEST(StandardWebhooks, MalformedTimestamps) {
  auto p = make({kSecret});
  for (std::string ts :
       {std::string(""), std::string("abc"), std::string("1614265330.5"),
        std::string("-1614265330"), std::string("+1614265330"), std::string(" 1614265330"),
        std::string("1614265330 "), std::string("99999999999999999999"), std::string("1e9"),
        std::string("0x60"), std::string("1614265330\xC2\xB2")}) {
    expectCode(p->verify(request(kSignature, "webhook-", kTs, kBody, ts).request()),
               "malformed_signature", 400);
  }
  // Numeric but absurd: well-formed, outside the window.
  expectCode(p->verify(request(kSignature, "webhook-", kTs, kBody, "999999999999999").request()),
             "timestamp_out_of_tolerance", 401);
  expectCode(p->verify(request(kSignature, "webhook-", kTs, kBody, "0").request()),
             "timestamp_out_of_tolerance", 401);
}

TEST(StandardWebhooks, MalformedIds) {
  auto p = make({kSecret});
  for (std::string id :
       {std::string(""), std::string("msg.1"), std::string("msg 1"), std::string(300, 'm'),
        std::string("msg_\xC3\xA9"), std::string("msg\t1"), std::string("msg\0x", 5)}) {
    expectCode(
        p->verify(request(kSignature, "webhook-", kTs, kBody, std::to_string(kTs), id).request()),
        "malformed_signature", 400);
  }
}

TEST(StandardWebhooks, Rfc8032KeysWorkWithTheSdkVerifier) {
  auto pub = crypto::fromHex(kRfcPublic).value();
  EXPECT_TRUE(crypto::ed25519Verify(pub, crypto::fromHex(kRfcEmptySig).value(), ""));
  EXPECT_EQ(ed25519Sign(kRfcPrivate, ""), crypto::fromHex(kRfcEmptySig).value());
}

TEST(StandardWebhooks, V1aEd25519) {
  auto p = make({whpk(kRfcPublic)});
  std::string sig = "v1a," + crypto::toBase64(ed25519Sign(kRfcPrivate, signedContent()));
  auto v = p->verify(request(sig).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.delivery_id, kId);
  // Alongside other entries, and with a symmetric key configured as well.
  auto both = make({kSecret, whpk(kRfcPublic)});
  EXPECT_EQ(
      both->verify(request("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + sig).request())
          .verdict,
      INLET_ACCEPT);
  EXPECT_EQ(both->verify(request(kSignature).request()).verdict, INLET_ACCEPT);
  // Tampered body, wrong key, and a v1a entry when only a symmetric key is configured.
  expectCode(p->verify(request(sig, "webhook-", kTs, R"({"test": 1})").request()),
             "signature_mismatch", 401);
  std::string other = "v1a," + crypto::toBase64(ed25519Sign(kRfcPrivate2, signedContent()));
  expectCode(p->verify(request(other).request()), "signature_mismatch", 401);
  expectCode(make({kSecret})->verify(request(sig).request()), "signature_mismatch", 401);
  // A v1 entry cannot satisfy a public key, nor a v1a entry an HMAC key.
  expectCode(p->verify(request(kSignature).request()), "signature_mismatch", 401);
  // Truncated Ed25519 signature.
  expectCode(p->verify(request(sig.substr(0, sig.size() - 8)).request()), "malformed_signature",
             400);
}

TEST(StandardWebhooks, RefusesBadSecrets) {
  EXPECT_THROW(make({}), std::invalid_argument);
  EXPECT_THROW(make({"whsec_"}), std::invalid_argument);
  EXPECT_THROW(make({"whsec_not base64!"}), std::invalid_argument);
  EXPECT_THROW(make({"whpk_" + crypto::toBase64("short")}), std::invalid_argument);
  EXPECT_THROW(make({"whsk_" + crypto::toBase64(std::string(64, 'k'))}), std::invalid_argument);
  EXPECT_THROW(make({kSecret}, R"({"tolerance":"soon"})"), std::invalid_argument);
  try {
    make({"whsec_not base64!"});
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("not base64!"), std::string::npos);
  }
}

}  // namespace
