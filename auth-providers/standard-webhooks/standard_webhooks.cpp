#include "standard_webhooks.h"

#include <Poco/JSON/Object.h>
#include <inlet/crypto.h>
#include <inlet/json.h>

#include <stdexcept>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Printable ASCII without space: ids are like "msg_2LJ…"; anything else in a header that ends
// up as a dedup key is refused rather than stored.
bool isPrintableToken(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

std::string eventType(std::string_view body) {
  try {
    auto obj = sdk::json::object(body);
    if (!obj) return {};
    auto v = obj->get("type");
    return v.isString() ? v.extract<std::string>() : std::string();
  } catch (...) {
    return {};  // authentic but not a JSON object: the pipeline's decoder decides
  }
}

}  // namespace

StandardWebhooksProvider::StandardWebhooksProvider(Options options)
    : options_(std::move(options)) {}

void StandardWebhooksProvider::addSecret(Options& o, const std::string& secret, size_t index) {
  const std::string which = "secret #" + std::to_string(index + 1);
  std::string_view s = secret;
  if (startsWith(s, "whsk_"))
    throw std::invalid_argument(which +
                                " is a whsk_ signing (private) key; bind the whpk_ public key");
  if (startsWith(s, "whpk_")) {
    auto key = crypto::fromBase64(s.substr(5));
    if (!key || key->size() != 32)
      throw std::invalid_argument(which +
                                  ": a whpk_ key must be base64 of a 32-byte Ed25519 public key");
    o.public_keys.push_back(std::move(*key));
    return;
  }
  // The libraries accept the secret with or without "whsec_", padded or not.
  if (startsWith(s, "whsec_")) s.remove_prefix(6);
  auto key = crypto::fromBase64(s);
  if (!key || key->empty()) throw std::invalid_argument(which + " is not a whsec_<base64> secret");
  o.hmac_keys.push_back(std::move(*key));
}

std::unique_ptr<StandardWebhooksProvider> StandardWebhooksProvider::create(
    const sdk::Config& config, const std::vector<sdk::Secret>& secrets, const sdk::Host&) {
  Options o;
  o.tolerance_ms = config.getDurationMs("tolerance", 300'000);
  if (o.tolerance_ms < 0)
    throw std::invalid_argument("standard-webhooks: tolerance must not be negative");
  if (secrets.empty()) throw std::invalid_argument("standard-webhooks needs at least one secret");
  for (size_t i = 0; i < secrets.size(); ++i) {
    try {
      addSecret(o, secrets[i].value, i);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("standard-webhooks: ") + e.what());
    }
  }
  return std::make_unique<StandardWebhooksProvider>(std::move(o));
}

Verdict StandardWebhooksProvider::verify(const sdk::Request& request) const {
  // Svix sends svix-*, Standard Webhooks senders webhook-*; the Svix libraries accept both.
  // The family is chosen as a whole so that parts of two families are never combined.
  std::string prefix = "webhook-";
  if (!request.header("webhook-id") && !request.header("webhook-timestamp") &&
      !request.header("webhook-signature") &&
      (request.header("svix-id") || request.header("svix-timestamp") ||
       request.header("svix-signature")))
    prefix = "svix-";
  const std::string id_name = prefix + "id", ts_name = prefix + "timestamp",
                    sig_name = prefix + "signature";
  for (const auto& name : {id_name, ts_name, sig_name}) {
    if (!request.header(name)) return Verdict::missingSignature(name);
    if (request.headerCount(name) > 1)
      return Verdict::malformedSignature("header " + name + " appears more than once");
  }
  std::string_view id = *request.header(id_name);
  std::string_view ts = *request.header(ts_name);
  std::string_view sig_header = *request.header(sig_name);

  // The signed content joins id, timestamp and body with '.', so neither may contain one
  // (spec: "the id and timestamp must not contain a period").
  if (id.empty() || id.size() > kMaxIdLength || !isPrintableToken(id) ||
      id.find('.') != std::string_view::npos)
    return Verdict::malformedSignature("header " + id_name +
                                       " must be 1-255 printable ASCII characters without '.'");
  // Integer seconds. 15 digits bound the value far beyond any real date and keep ts * 1000 in
  // int64 range; a sign, spaces or a fraction are refused.
  if (ts.empty() || ts.size() > 15 || ts.find_first_not_of("0123456789") != std::string_view::npos)
    return Verdict::malformedSignature("header " + ts_name + " must be integer Unix seconds");
  int64_t ts_ms = 0;
  for (char c : ts) ts_ms = ts_ms * 10 + (c - '0');
  ts_ms *= 1000;

  if (sig_header.size() > kMaxSignatureHeader)
    return Verdict::malformedSignature("header " + sig_name + " is too large");

  // Freshness first, as the libraries do: a replayed old message is refused without any
  // cryptography. Both directions: the libraries reject too old and too new alike.
  const int64_t skew = request.received_ms - ts_ms;
  if (skew > options_.tolerance_ms || -skew > options_.tolerance_ms)
    return Verdict::staleTimestamp("timestamp " + std::string(ts) + " is " +
                                   std::to_string(skew / 1000) +
                                   " s from the receive time; tolerance " +
                                   std::to_string(options_.tolerance_ms / 1000) + " s");

  // Expected v1 MACs, computed once per key.
  std::vector<std::string> macs;
  macs.reserve(options_.hmac_keys.size());
  for (const auto& key : options_.hmac_keys)
    macs.push_back(crypto::hmac(crypto::Digest::Sha256, key, id, ".", ts, ".", request.body));
  std::string signed_content;  // only built for v1a

  size_t entries = 0, usable = 0;
  bool matched = false;
  std::string_view rest = sig_header;
  while (!rest.empty()) {
    size_t sp = rest.find(' ');
    std::string_view entry = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
    if (entry.empty()) continue;  // repeated spaces
    if (++entries > kMaxSignatures)
      return Verdict::malformedSignature("header " + sig_name + " lists more than " +
                                         std::to_string(kMaxSignatures) + " signatures");
    size_t comma = entry.find(',');
    if (comma == std::string_view::npos) continue;  // garbled entry; counted as unusable
    std::string_view version = entry.substr(0, comma);
    std::string_view encoded = entry.substr(comma + 1);
    if (version == "v1") {
      auto mac = crypto::fromBase64(encoded);
      if (!mac || mac->size() != 32) continue;
      ++usable;
      // Decoded bytes compared in constant time (the Python and Go libraries compare bytes).
      for (const auto& expected : macs) matched |= crypto::constantTimeEqual(expected, *mac);
    } else if (version == "v1a") {
      auto signature = crypto::fromBase64(encoded);
      if (!signature || signature->size() != 64) continue;
      ++usable;
      if (options_.public_keys.empty()) continue;
      if (signed_content.empty()) {
        signed_content.reserve(id.size() + ts.size() + 2 + request.body.size());
        signed_content.append(id).append(".").append(ts).append(".").append(request.body);
      }
      for (const auto& key : options_.public_keys)
        matched = matched || crypto::ed25519Verify(key, *signature, signed_content);
    }
    // Other versions are skipped (spec: verifiers ignore signatures of versions they do not
    // know, which is how senders introduce new schemes).
  }

  if (matched) {
    Verdict v = Verdict::accept(std::string(id), eventType(request.body));
    v.signed_timestamp_ms = ts_ms;
    return v;
  }
  if (usable == 0)
    return Verdict::malformedSignature("header " + sig_name +
                                       " has no well-formed v1 or v1a signature");
  std::string detail = "received " + std::string(sig_header.substr(0, 300));
  if (!macs.empty())
    detail = "expected v1," + crypto::toBase64(macs.front()) + " (first secret), " + detail;
  return Verdict::mismatch(std::move(detail));
}

}  // namespace inlet::auth
