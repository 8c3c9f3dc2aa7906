#include "discord.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>
#include <openssl/evp.h>

using inlet::auth::DiscordProvider;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;

namespace {

// RFC 8032 section 7.1, TEST 1 and TEST 2 key pairs.
const char kSecret1[] = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char kPublic1[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char kSecret2[] = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const char kPublic2[] = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";

std::string sign(const char* secret_hex, const std::string& message) {
  auto secret = *crypto::fromHex(secret_hex);
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(secret.data()), 32);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof(sig);
  bool ok = key && ctx && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                           message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  EXPECT_TRUE(ok);
  return crypto::toHex(std::string(reinterpret_cast<char*>(sig), len));
}

std::unique_ptr<DiscordProvider> make(std::vector<std::string> keys, const char* options = "{}") {
  std::vector<inlet::sdk::Secret> s;
  for (auto& k : keys) s.push_back({"discord", k});
  return DiscordProvider::create(inlet::sdk::Config::parse(options), s, inlet::sdk::Host());
}

RequestBuilder signedRequest(const char* secret, std::string ts, std::string body,
                             int64_t now = 1700000000) {
  RequestBuilder r;
  std::string sig = sign(secret, ts + body);
  r.body(std::move(body))
      .header("X-Signature-Ed25519", sig)
      .header("X-Signature-Timestamp", std::move(ts))
      .receivedSeconds(now);
  return r;
}

const char kCommand[] =
    R"({"type":2,"id":"786008729715212338","token":"tok","data":{"name":"ping"}})";

TEST(Discord, Rfc8032Test2VectorAsTimestampPlusBody) {
  // RFC 8032 TEST 2 signs the one-byte message 0x72 ("r"): here timestamp "r" + empty body.
  auto p = make({kPublic2});
  RequestBuilder r;
  r.header("X-Signature-Ed25519",
           "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
           "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00")
      .header("X-Signature-Timestamp", "r");
  EXPECT_EQ(p->verify(r.request()).verdict, INLET_ACCEPT);
  // And the in-test signer agrees with the RFC.
  EXPECT_EQ(sign(kSecret2, "r"),
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
}

TEST(Discord, AcceptsSignedInteraction) {
  auto p = make({kPublic1});
  auto v = p->verify(signedRequest(kSecret1, "1700000000", kCommand).request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.message;
  EXPECT_EQ(v.delivery_id, "786008729715212338");
  EXPECT_EQ(v.event_type, "APPLICATION_COMMAND");
  EXPECT_EQ(v.signed_timestamp_ms, 1700000000000);
}

TEST(Discord, AnswersPings) {
  auto p = make({kPublic1});
  auto v = p->verify(
      signedRequest(kSecret1, "1700000000", R"({"type":1,"id":"1","token":"t"})").request());
  EXPECT_EQ(v.verdict, INLET_RESPOND);
  EXPECT_EQ(v.http_status, 200);
  EXPECT_EQ(v.response_body, R"({"type":1})");
  EXPECT_EQ(v.response_content_type, "application/json");

  auto w = p->verify(
      signedRequest(kSecret1, "1700000000", R"({"version":1,"application_id":"1","type":0})")
          .request());
  EXPECT_EQ(w.verdict, INLET_RESPOND);
  EXPECT_EQ(w.http_status, 204);
  EXPECT_TRUE(w.response_body.empty());

  auto e = p->verify(signedRequest(kSecret1, "1700000000",
                                   R"({"version":1,"application_id":"1","type":1,)"
                                   R"("event":{"type":"APPLICATION_AUTHORIZED","data":{}}})")
                         .request());
  EXPECT_EQ(e.verdict, INLET_ACCEPT);
  EXPECT_EQ(e.event_type, "APPLICATION_AUTHORIZED");

  auto stored = make({kPublic1}, R"({"respond_to_ping":false})")
                    ->verify(signedRequest(kSecret1, "1", R"({"type":1,"token":"t"})").request());
  EXPECT_EQ(stored.verdict, INLET_ACCEPT);
  EXPECT_EQ(stored.event_type, "PING");
}

TEST(Discord, UnsignedPingIsRefused) {
  auto p = make({kPublic1});
  RequestBuilder r = signedRequest(kSecret1, "1700000000", R"({"type":1})");
  r.body(R"({"type":1} )");
  auto v = p->verify(r.request());
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
}

TEST(Discord, TamperedTimestampWrongKeyAndRotation) {
  auto r = signedRequest(kSecret1, "1700000000", kCommand);
  r.header("X-Signature-Timestamp", "1700000001");  // second copy: refused as duplicated
  EXPECT_EQ(make({kPublic1})->verify(r.request()).code, "malformed_signature");

  RequestBuilder t;
  t.body(kCommand)
      .header("X-Signature-Ed25519", sign(kSecret1, std::string("1700000000") + kCommand))
      .header("X-Signature-Timestamp", "1700000001");
  EXPECT_EQ(make({kPublic1})->verify(t.request()).code, "signature_mismatch");

  auto good = signedRequest(kSecret1, "1700000000", kCommand);
  EXPECT_EQ(make({kPublic2})->verify(good.request()).code, "signature_mismatch");
  EXPECT_EQ(make({kPublic2, kPublic1})->verify(good.request()).verdict, INLET_ACCEPT);
}

TEST(Discord, MalformedAndMissingHeadersAre401) {
  auto p = make({kPublic1});
  std::string sig = sign(kSecret1, std::string("1") + kCommand);
  struct Case {
    std::string sig, ts;
    const char* code;
  };
  for (const auto& c : std::vector<Case>{{sig.substr(2), "1", "malformed_signature"},
                                         {sig + "00", "1", "malformed_signature"},
                                         {"zz" + sig.substr(2), "1", "malformed_signature"},
                                         {sig, "", "malformed_signature"},
                                         {sig, std::string(65, '1'), "malformed_signature"}}) {
    RequestBuilder r;
    r.body(kCommand).header("X-Signature-Ed25519", c.sig).header("X-Signature-Timestamp", c.ts);
    auto v = p->verify(r.request());
    EXPECT_EQ(v.code, c.code) << c.sig << " / " << c.ts;
    EXPECT_EQ(v.http_status, 401);
  }
  RequestBuilder none;
  none.body(kCommand);
  auto v = p->verify(none.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 401);
  // Upper-case hex is still hex.
  RequestBuilder upper;
  std::string up = sig;
  for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  upper.body(kCommand).header("X-Signature-Ed25519", up).header("X-Signature-Timestamp", "1");
  EXPECT_EQ(p->verify(upper.request()).verdict, INLET_ACCEPT);
}

TEST(Discord, OptionalTolerance) {
  auto off = make({kPublic1});
  EXPECT_EQ(off->verify(signedRequest(kSecret1, "1000", kCommand, 1700000000).request()).verdict,
            INLET_ACCEPT);  // default: no freshness check
  auto p = make({kPublic1}, R"({"tolerance":"60s"})");
  EXPECT_EQ(
      p->verify(signedRequest(kSecret1, "1700000000", kCommand, 1700000060).request()).verdict,
      INLET_ACCEPT);
  EXPECT_EQ(p->verify(signedRequest(kSecret1, "1700000000", kCommand, 1700000061).request()).code,
            "timestamp_out_of_tolerance");
  EXPECT_EQ(p->verify(signedRequest(kSecret1, "1700000000", kCommand, 1699999939).request()).code,
            "timestamp_out_of_tolerance");
  EXPECT_EQ(p->verify(signedRequest(kSecret1, "17e8", kCommand, 1700000000).request()).code,
            "malformed_signature");
}

TEST(Discord, CreateRefusesBadKeys) {
  EXPECT_THROW(make({}), std::invalid_argument);
  EXPECT_THROW(make({"abcd"}), std::invalid_argument);
  EXPECT_THROW(make({std::string(kSecret1).substr(0, 62) + "zz"}), std::invalid_argument);
  try {
    make({"not-a-key-value"});
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("not-a-key-value"), std::string::npos);
  }
}

}  // namespace
