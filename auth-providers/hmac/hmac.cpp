#include "hmac.h"

#include <inlet/crypto.h>
#include <inlet/json.h>
#include <openssl/evp.h>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;
using hmac::Encoding;
using hmac::TemplatePart;

namespace {

// A signature header longer than this, or with more items, is refused as malformed: no real
// provider comes close, and a bound keeps hostile headers from costing unbounded work.
constexpr size_t kMaxHeaderBytes = 8192;
constexpr size_t kMaxItems = 32;

// HMAC over a run-time list of parts (crypto::hmac takes a compile-time pack).
std::string hmacParts(crypto::Digest digest, std::string_view key,
                      const std::vector<std::string_view>& parts) {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) throw std::runtime_error("HMAC unavailable");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  if (!ctx) throw std::runtime_error("EVP_MAC_CTX_new failed");
  OSSL_PARAM params[2] = {
      OSSL_PARAM_construct_utf8_string("digest", const_cast<char*>(crypto::evpName(digest)), 0),
      OSSL_PARAM_construct_end()};
  bool ok = EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                         params) == 1;
  for (auto part : parts)
    ok = ok &&
         EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(part.data()), part.size()) == 1;
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  ok = ok && EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
  EVP_MAC_CTX_free(ctx);
  if (!ok) throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<char*>(out), out_len);
}

bool printableAscii(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c > 0x7e) return false;
  return true;
}

std::string encode(Encoding e, std::string_view bytes) {
  return e == Encoding::Hex ? crypto::toHex(bytes)
                            : crypto::toBase64(bytes, e == Encoding::Base64Url);
}

std::optional<std::string> decode(Encoding e, std::string_view text) {
  return e == Encoding::Hex ? crypto::fromHex(text) : crypto::fromBase64(text);
}

std::string clip(std::string_view s, size_t n = 200) {
  return s.size() <= n ? std::string(s) : std::string(s.substr(0, n)) + "...";
}

// Reads a single-valued header for the signature scheme. A repeated header is refused: which
// copy a proxy or a framework would pick differs, and an attacker could exploit the difference.
std::optional<Verdict> readHeader(const sdk::Request& request, const std::string& name,
                                  std::string_view& out) {
  auto value = request.header(name);
  if (!value) return Verdict::missingSignature(name);
  if (request.headerCount(name) > 1)
    return Verdict::malformedSignature("header " + name + " appears more than once");
  if (value->size() > kMaxHeaderBytes)
    return Verdict::malformedSignature("header " + name + " is too long");
  if (!printableAscii(*value))
    return Verdict::malformedSignature("header " + name + " contains non-ASCII or control bytes");
  out = *value;
  return std::nullopt;
}

Verdict missingField(const std::string& pointer) {
  return Verdict::reject(400, "missing_signature", "missing body field " + pointer);
}

}  // namespace

HmacProvider::HmacProvider(hmac::Recipe recipe, std::vector<std::string> keys)
    : recipe_(std::move(recipe)),
      keys_(std::move(keys)),
      digest_size_(static_cast<size_t>(EVP_MD_get_size(crypto::evp(recipe_.algorithm)))) {}

std::unique_ptr<HmacProvider> HmacProvider::create(const sdk::Config& config,
                                                   const std::vector<sdk::Secret>& secrets,
                                                   const sdk::Host&) {
  hmac::Recipe recipe = hmac::parseRecipe(config);
  if (secrets.empty()) throw std::invalid_argument("hmac needs at least one secret");
  std::vector<std::string> keys;
  for (const auto& s : secrets) keys.push_back(hmac::prepareKey(recipe, s));
  return std::make_unique<HmacProvider>(std::move(recipe), std::move(keys));
}

Verdict HmacProvider::verify(const sdk::Request& request) const {
  const hmac::Recipe& r = recipe_;

  // The body is parsed only when, and the first time, the recipe reads a value out of it:
  // before verification only for schemes that keep signed inputs in the body (Mailgun), after
  // it for delivery id / event type.
  Poco::Dynamic::Var json;
  enum { Unparsed, Parsed, NotJson } json_state = Unparsed;
  auto jsonOk = [&] {
    if (json_state == Unparsed) {
      // The SDK's reader bounds nesting (2,000 levels, as SQLite).
      auto parsed = sdk::json::parse(request.body);
      json_state = parsed ? Parsed : NotJson;
      if (parsed) json = std::move(*parsed);
    }
    return json_state == Parsed;
  };
  auto field = [&](const std::string& pointer) -> std::optional<std::string> {
    if (!jsonOk()) return std::nullopt;
    return hmac::jsonPointer(json, pointer);
  };

  // 1. The received signature(s) and, for list headers, the embedded timestamp.
  std::vector<std::string_view> candidates;
  std::string received_text;  // for `detail`
  std::string signature_from_body;
  std::optional<std::string_view> timestamp_text;
  bool list = false;
  if (!r.header.empty()) {
    std::string_view value;
    if (auto bad = readHeader(request, r.header, value)) return *bad;
    received_text = clip(value);
    if (r.items) {
      list = true;
      auto items = hmac::splitItems(value, r.items->separator, r.items->kv_separator, kMaxItems);
      if (!items) return Verdict::malformedSignature("header " + r.header + " has too many items");
      for (const auto& item : *items) {
        if (!r.items->timestamp_key.empty() && item.key == r.items->timestamp_key) {
          if (timestamp_text)
            return Verdict::malformedSignature("header " + r.header + " carries two '" +
                                               r.items->timestamp_key + "' items");
          timestamp_text = item.value;
        } else if (r.items->signature_key.empty() || item.key == r.items->signature_key) {
          candidates.push_back(item.value);
        }
        // Items of any other scheme are ignored, as the providers' SDKs do (e.g. Stripe's v0):
        // honouring them would let an attacker downgrade to a weaker scheme.
      }
      if (candidates.empty())
        return Verdict::malformedSignature("header " + r.header + " has no " +
                                           (r.items->signature_key.empty()
                                                ? std::string("signature")
                                                : "'" + r.items->signature_key + "' signature"));
    } else {
      candidates.push_back(value);
    }
  } else {
    if (!jsonOk()) return Verdict::malformedSignature("the body is not JSON");
    auto sig = field(r.signature_json);
    if (!sig) return missingField(r.signature_json);
    signature_from_body = std::move(*sig);
    if (signature_from_body.size() > kMaxHeaderBytes)
      return Verdict::malformedSignature("body field " + r.signature_json + " is too long");
    received_text = clip(signature_from_body);
    candidates.push_back(signature_from_body);
  }

  // 2. Decode every candidate. In a list, an undecodable entry is skipped (PagerDuty's and the
  // Standard Webhooks SDKs do the same) as long as one decodes; a lone signature must decode.
  std::vector<std::string> signatures;
  for (auto c : candidates) {
    bool prefixed = c.substr(0, r.prefix.size()) == r.prefix;
    std::optional<std::string> bytes;
    if (prefixed) bytes = decode(r.encoding, c.substr(r.prefix.size()));
    if (bytes && bytes->size() == digest_size_) signatures.push_back(std::move(*bytes));
  }
  if (signatures.empty()) {
    std::string what = r.prefix.empty() ? "" : "'" + r.prefix + "' + ";
    what += std::to_string(digest_size_) + "-byte " +
            (r.encoding == Encoding::Hex ? "hex" : "base64") + " digest";
    return Verdict::malformedSignature(
        std::string(list ? "no signature item is " : "signature is not ") + what,
        "received " + received_text);
  }

  // 3. The timestamp (read before the message: the message may contain it).
  std::string timestamp_storage;
  if (!r.timestamp_header.empty()) {
    std::string_view value;
    if (auto bad = readHeader(request, r.timestamp_header, value)) return *bad;
    timestamp_text = value;
  } else if (!r.timestamp_json.empty()) {
    if (!jsonOk()) return Verdict::malformedSignature("the body is not JSON");
    auto value = field(r.timestamp_json);
    if (!value) return missingField(r.timestamp_json);
    timestamp_storage = std::move(*value);
    timestamp_text = timestamp_storage;
  } else if (r.hasTimestamp() && !timestamp_text) {
    return Verdict::malformedSignature("header " + r.header + " has no '" + r.items->timestamp_key +
                                       "' timestamp item");
  }
  int64_t timestamp_ms = 0;
  if (timestamp_text) {
    auto parsed = hmac::parseTimestampMs(*timestamp_text, r.timestamp_unit);
    if (!parsed)
      return Verdict::malformedSignature(
          "timestamp is not a valid " + std::string(r.timestamp_unit == hmac::TimestampUnit::Iso8601
                                                        ? "ISO-8601 time"
                                                        : "integer"),
          "received " + clip(*timestamp_text));
    timestamp_ms = *parsed;
  }

  // 4. The signed message, as views into the request (no copy of the body).
  std::vector<std::string> json_values;  // owns {json:} values; reserved so views stay valid
  json_values.reserve(r.message.size());
  std::vector<std::string_view> parts;
  parts.reserve(r.message.size());
  for (const auto& p : r.message) {
    switch (p.kind) {
      case TemplatePart::Kind::Literal:
        parts.push_back(p.text);
        break;
      case TemplatePart::Kind::Body:
        parts.push_back(request.body);
        break;
      case TemplatePart::Kind::Timestamp:
        parts.push_back(*timestamp_text);
        break;
      case TemplatePart::Kind::Method:
        parts.push_back(request.method);
        break;
      case TemplatePart::Kind::Url:
        parts.push_back(request.url);
        break;
      case TemplatePart::Kind::Header: {
        auto value = request.header(p.text);
        if (!value) return Verdict::missingSignature(p.text);
        if (request.headerCount(p.text) > 1)
          return Verdict::malformedSignature("header " + p.text + " appears more than once");
        parts.push_back(*value);
        break;
      }
      case TemplatePart::Kind::Json: {
        if (!jsonOk()) return Verdict::malformedSignature("the body is not JSON");
        auto value = field(p.text);
        if (!value) return missingField(p.text);
        json_values.push_back(std::move(*value));
        parts.push_back(json_values.back());
        break;
      }
    }
  }

  // 5. Any configured key against any received signature. Decoded bytes are compared in
  // constant time: an early-exit compare would let a forger learn the digest byte by byte.
  std::string first_expected;
  bool matched = false;
  for (const auto& key : keys_) {
    std::string expected = hmacParts(r.algorithm, key, parts);
    for (const auto& sig : signatures) matched |= crypto::constantTimeEqual(expected, sig);
    if (matched) break;
    if (first_expected.empty()) first_expected = r.prefix + encode(r.encoding, expected);
  }
  if (!matched)
    return Verdict::mismatch("expected " + first_expected + " (first secret), received " +
                             received_text);

  // 6. Freshness, once the timestamp is known to be authentic (when it is signed).
  if (timestamp_text && r.tolerance_ms > 0) {
    int64_t age = request.received_ms - timestamp_ms;
    if (age > r.tolerance_ms || (r.reject_future && -age > r.tolerance_ms))
      return Verdict::staleTimestamp("timestamp " + clip(*timestamp_text) + " is " +
                                     std::to_string(age / 1000) + " s from the receive time; " +
                                     "tolerance " + std::to_string(r.tolerance_ms / 1000) + " s");
  }

  auto pick = [&](const std::string& header, const std::string& pointer) -> std::string {
    if (!header.empty()) return std::string(request.header(header).value_or(""));
    if (!pointer.empty()) return field(pointer).value_or("");
    return {};
  };
  Verdict v = Verdict::accept(pick(r.delivery_id_header, r.delivery_id_json),
                              pick(r.event_type_header, r.event_type_json));
  v.signed_timestamp_ms = timestamp_ms;
  return v;
}

}  // namespace inlet::auth
