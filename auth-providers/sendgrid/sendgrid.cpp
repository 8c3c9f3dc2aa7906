#include "sendgrid.h"

#include <inlet/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstring>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr const char* kSignatureHeader = "x-twilio-email-event-webhook-signature";
constexpr const char* kTimestampHeader = "x-twilio-email-event-webhook-timestamp";
// A DER ECDSA P-256 signature is at most 72 bytes; anything much longer is not one.
constexpr size_t kMaxSignatureBase64 = 256;

std::optional<int64_t> unixSeconds(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

// One-shot ECDSA-SHA256 verification of timestamp + body (streamed, no copy of the body).
// EVP_PKEY is reference-counted and safe to share read-only between threads; each call has its
// own EVP_MD_CTX.
bool ecdsaVerify(EVP_PKEY* key, std::string_view der, std::string_view timestamp,
                 std::string_view body) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerifyUpdate(ctx, timestamp.data(), timestamp.size()) == 1 &&
            EVP_DigestVerifyUpdate(ctx, body.data(), body.size()) == 1 &&
            EVP_DigestVerifyFinal(ctx, reinterpret_cast<const unsigned char*>(der.data()),
                                  der.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

std::shared_ptr<EVP_PKEY> SendGridProvider::parsePublicKey(const std::string& name,
                                                           std::string_view base64_spki) {
  auto der = crypto::fromBase64(base64_spki);
  if (!der || der->empty())
    throw std::invalid_argument("secret '" + name +
                                "' is not base64 (the SendGrid verification key)");
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size()));
  if (!key || p != reinterpret_cast<const unsigned char*>(der->data()) + der->size()) {
    EVP_PKEY_free(key);
    throw std::invalid_argument(
        "secret '" + name + "' is not a DER SubjectPublicKeyInfo (the SendGrid verification key)");
  }
  std::shared_ptr<EVP_PKEY> owned(key, EVP_PKEY_free);
  char group[64] = {0};
  size_t group_len = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1 ||
      std::strcmp(group, "prime256v1") != 0)
    throw std::invalid_argument("secret '" + name + "' is not a P-256 (prime256v1) EC public key");
  return owned;
}

SendGridProvider::SendGridProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<SendGridProvider> SendGridProvider::create(const sdk::Config& config,
                                                           const std::vector<sdk::Secret>& secrets,
                                                           const sdk::Host&) {
  Options o;
  o.tolerance_ms = config.getDurationMs("tolerance", 0);
  if (o.tolerance_ms < 0) throw std::invalid_argument("tolerance: must not be negative");
  for (const auto& s : secrets) o.keys.push_back(parsePublicKey(s.name, s.value));
  if (o.keys.empty())
    throw std::invalid_argument("sendgrid needs at least one secret: the verification key");
  return std::make_unique<SendGridProvider>(std::move(o));
}

Verdict SendGridProvider::verify(const sdk::Request& request) const {
  for (const char* name : {kSignatureHeader, kTimestampHeader}) {
    if (!request.header(name)) return Verdict::missingSignature(name);
    if (request.headerCount(name) > 1)
      return Verdict::malformedSignature("header " + std::string(name) + " appears more than once");
  }
  std::string_view signature_b64 = *request.header(kSignatureHeader);
  std::string_view timestamp = *request.header(kTimestampHeader);
  if (signature_b64.size() > kMaxSignatureBase64)
    return Verdict::malformedSignature("signature header is too long");
  if (timestamp.empty() || timestamp.size() > 64)
    return Verdict::malformedSignature("timestamp header is empty or too long");
  auto der = crypto::fromBase64(signature_b64);
  if (!der || der->empty()) return Verdict::malformedSignature("signature is not base64");
  // Classify an unparsable DER as malformed (400) rather than a mismatch.
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der->size()));
  bool whole = parsed && p == reinterpret_cast<const unsigned char*>(der->data()) + der->size();
  ECDSA_SIG_free(parsed);
  if (!whole) return Verdict::malformedSignature("signature is not a DER ECDSA signature");

  bool ok = false;
  for (const auto& key : options_.keys)
    if ((ok = ecdsaVerify(key.get(), *der, timestamp, request.body))) break;
  if (!ok) return Verdict::mismatch("ECDSA signature does not verify with any configured key");

  auto seconds = unixSeconds(timestamp);
  int64_t signed_ms = seconds ? *seconds * 1000 : 0;
  if (options_.tolerance_ms > 0) {
    if (!seconds) return Verdict::malformedSignature("timestamp is not Unix seconds");
    int64_t age = request.received_ms - signed_ms;
    if (age > options_.tolerance_ms || -age > options_.tolerance_ms)
      return Verdict::staleTimestamp("timestamp " + std::string(timestamp) + " is " +
                                     std::to_string(age / 1000) +
                                     " s from the receive time; tolerance " +
                                     std::to_string(options_.tolerance_ms / 1000) + " s");
  }
  // SendGrid batches many events (each with its own sg_event_id) in one JSON array, so there is
  // no single delivery id or event type for the request.
  Verdict v = Verdict::accept();
  v.signed_timestamp_ms = signed_ms;
  return v;
}

}  // namespace inlet::auth
