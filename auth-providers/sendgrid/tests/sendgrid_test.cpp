#include "sendgrid.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

using inlet::auth::SendGridProvider;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// sendgrid/sendgrid-nodejs packages/eventwebhook/src/eventwebhook.spec.js
const char kPublicKey[] =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+"
    "u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
const char kOtherKey[] =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7a"
    "NDthvj+y7GjUuFDb/R1NGe1OPzpA==";
const char kSignature[] =
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/"
    "0=";
const char kBadSignature[] =
    "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/"
    "0=";
const char kTimestamp[] = "1588788367";
// JSON.stringify({category:'example_payload', event:'test_event', message_id:'message_id'})
const char kPayload[] =
    R"({"category":"example_payload","event":"test_event","message_id":"message_id"})";

std::unique_ptr<SendGridProvider> make(std::vector<std::string> keys, const char* options = "{}") {
  std::vector<inlet::sdk::Secret> s;
  for (auto& k : keys) s.push_back({"sendgrid", k});
  return SendGridProvider::create(inlet::sdk::Config::parse(options), s, inlet::sdk::Host());
}

RequestBuilder request(std::string body, std::string sig, std::string ts,
                       int64_t now = 1588788367) {
  RequestBuilder r;
  r.body(std::move(body))
      .header("X-Twilio-Email-Event-Webhook-Signature", std::move(sig))
      .header("X-Twilio-Email-Event-Webhook-Timestamp", std::move(ts))
      .receivedSeconds(now);
  return r;
}

// A fresh P-256 key for cases the official vector does not cover.
struct TestKey {
  std::shared_ptr<EVP_PKEY> key{EVP_EC_gen("P-256"), EVP_PKEY_free};
  std::string spkiBase64() const {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    std::string out = crypto::toBase64(std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    return out;
  }
  std::string sign(const std::string& message) const {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned char sig[128];
    size_t len = sizeof(sig);
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()), 1);
    EXPECT_EQ(EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()),
              1);
    EVP_MD_CTX_free(ctx);
    return crypto::toBase64(std::string(reinterpret_cast<char*>(sig), len));
  }
};

TEST(SendGrid, OfficialVector) {
  auto v = make({kPublicKey})->verify(request(kPayload, kSignature, kTimestamp).request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.message;
  EXPECT_EQ(v.signed_timestamp_ms, 1588788367000);
}

TEST(SendGrid, OfficialNegativeCases) {
  auto p = make({kPublicKey});
  EXPECT_EQ(make({kOtherKey})->verify(request(kPayload, kSignature, kTimestamp).request()).code,
            "signature_mismatch");
  EXPECT_EQ(p->verify(request("payload", kSignature, kTimestamp).request()).code,
            "signature_mismatch");
  EXPECT_EQ(p->verify(request(kPayload, kBadSignature, kTimestamp).request()).code,
            "signature_mismatch");
  auto v = p->verify(request(kPayload, kSignature, "timestamp").request());
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
}

TEST(SendGrid, Rotation) {
  EXPECT_EQ(make({kOtherKey, kPublicKey})
                ->verify(request(kPayload, kSignature, kTimestamp).request())
                .verdict,
            INLET_ACCEPT);
}

TEST(SendGrid, SignedWithGeneratedKey) {
  TestKey k;
  auto p = make({k.spkiBase64()});
  std::string body = R"([{"email":"a@example.com","event":"delivered","sg_event_id":"x"}])";
  EXPECT_EQ(
      p->verify(request(body, k.sign(std::string("1700000000") + body), "1700000000").request())
          .verdict,
      INLET_ACCEPT);
  // The timestamp is signed.
  EXPECT_EQ(
      p->verify(request(body, k.sign(std::string("1700000000") + body), "1700000001").request())
          .code,
      "signature_mismatch");
}

TEST(SendGrid, MalformedAndMissing) {
  auto p = make({kPublicKey});
  for (std::string bad : {std::string(""), std::string("not base64!"), std::string("AAAA"),
                          std::string(kSignature) + "AAAA", std::string(300, 'A')}) {
    auto v = p->verify(request(kPayload, bad, kTimestamp).request());
    EXPECT_EQ(v.code, "malformed_signature") << bad;
    EXPECT_EQ(v.http_status, 400);
  }
  EXPECT_EQ(p->verify(request(kPayload, kSignature, "").request()).code, "malformed_signature");
  RequestBuilder none;
  none.body(kPayload);
  EXPECT_EQ(p->verify(none.request()).code, "missing_signature");
  RequestBuilder no_ts;
  no_ts.body(kPayload).header("X-Twilio-Email-Event-Webhook-Signature", kSignature);
  EXPECT_EQ(p->verify(no_ts.request()).code, "missing_signature");
  auto dup = request(kPayload, kSignature, kTimestamp);
  dup.header("X-Twilio-Email-Event-Webhook-Signature", kSignature);
  EXPECT_EQ(p->verify(dup.request()).code, "malformed_signature");
}

TEST(SendGrid, OptionalTolerance) {
  EXPECT_EQ(make({kPublicKey})
                ->verify(request(kPayload, kSignature, kTimestamp, 1900000000).request())
                .verdict,
            INLET_ACCEPT);  // default: no check, as in the SDK
  auto p = make({kPublicKey}, R"({"tolerance":"10m"})");
  EXPECT_EQ(
      p->verify(request(kPayload, kSignature, kTimestamp, 1588788367 + 600).request()).verdict,
      INLET_ACCEPT);
  EXPECT_EQ(p->verify(request(kPayload, kSignature, kTimestamp, 1588788367 + 601).request()).code,
            "timestamp_out_of_tolerance");
  EXPECT_EQ(p->verify(request(kPayload, kSignature, kTimestamp, 1588788367 - 601).request()).code,
            "timestamp_out_of_tolerance");
}

TEST(SendGrid, CreateRefusesKeysThatAreNotP256) {
  EXPECT_THROW(make({}), std::invalid_argument);
  EXPECT_THROW(make({"!!"}), std::invalid_argument);
  EXPECT_THROW(make({"AAAA"}), std::invalid_argument);
  // A valid SPKI of the wrong curve (P-384) and of a non-EC key (Ed25519).
  std::shared_ptr<EVP_PKEY> p384(EVP_EC_gen("P-384"), EVP_PKEY_free);
  std::shared_ptr<EVP_PKEY> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  for (auto* key : {p384.get(), ed.get()}) {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key, &der);
    std::string b64 = crypto::toBase64(std::string(reinterpret_cast<char*>(der), len));
    OPENSSL_free(der);
    EXPECT_THROW(make({b64}), std::invalid_argument);
  }
  // Trailing bytes after the key.
  EXPECT_THROW(make({crypto::toBase64(*crypto::fromBase64(kPublicKey) + "x")}),
               std::invalid_argument);
}

}  // namespace
