#include "segment.h"

#include <inlet/crypto.h>
#include <inlet/json.h>
#include <inlet/text.h>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr std::string_view kHeader = "x-signature";
constexpr size_t kHexLen = 40;  // SHA-1

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skipSpace(std::string_view s, size_t i) {
  while (i < s.size() && isJsonSpace(s[i])) ++i;
  return i;
}

// Segment events carry their id in `messageId` and their kind in `type` (track, identify, …).
// Only called on bytes that were just authenticated; anything unparsable leaves both empty.
void extractIds(std::string_view json, Verdict& verdict) {
  try {
    auto object = sdk::json::object(json);
    if (!object) return;
    if (object->has("messageId") && object->get("messageId").isString())
      verdict.delivery_id = object->getValue<std::string>("messageId");
    if (object->has("type") && object->get("type").isString())
      verdict.event_type = object->getValue<std::string>("type");
  } catch (...) {
    // Not a JSON object: the event is still authentic, it just has no ids to offer.
  }
}

}  // namespace

std::optional<std::string_view> firstArrayElement(std::string_view body) {
  size_t i = skipSpace(body, 0);
  if (i >= body.size() || body[i] != '[') return std::nullopt;
  const size_t start = skipSpace(body, i + 1);
  std::string closers;  // brackets still open inside the element, innermost last
  for (i = start; i < body.size(); ++i) {
    char c = body[i];
    // At depth 0 a string or container can only open the element, never follow scalar bytes.
    if (closers.empty() && i != start && (c == '"' || c == '{' || c == '[')) return std::nullopt;
    if (c == '"') {
      // Skip the string; a backslash always escapes the next byte (\" and \\ included).
      for (++i; i < body.size() && body[i] != '"'; ++i)
        if (body[i] == '\\') ++i;
      if (i >= body.size()) return std::nullopt;  // unterminated string
    } else if (c == '{' || c == '[') {
      closers.push_back(c == '{' ? '}' : ']');
      continue;
    } else if (c == '}' || c == ']') {
      if (closers.empty()) break;  // the outer array's ']' right after a scalar
      if (closers.back() != c) return std::nullopt;
      closers.pop_back();
    } else if (closers.empty()) {
      // A scalar (number, true, false, null) runs up to the next separator.
      if (c == ',' || isJsonSpace(c)) break;
      continue;
    } else {
      continue;
    }
    // A string or a container just closed: at depth 0 that is the whole element.
    if (closers.empty()) {
      ++i;
      break;
    }
  }
  if (i > body.size() || !closers.empty() || i == start) return std::nullopt;
  // The element must be followed by the next separator or the end of the array.
  size_t after = skipSpace(body, i);
  if (after >= body.size() || (body[after] != ',' && body[after] != ']')) return std::nullopt;
  return body.substr(start, i - start);
}

SegmentProvider::SegmentProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<SegmentProvider> SegmentProvider::create(const sdk::Config& config,
                                                         const std::vector<sdk::Secret>& secrets,
                                                         const sdk::Host&) {
  Options o;
  std::string batches = config.getString("batches", "reject");
  if (batches == "reject") {
    o.batches = Batches::kReject;
  } else if (batches == "first_item") {
    o.batches = Batches::kFirstItem;
  } else {
    throw std::invalid_argument("batches must be reject or first_item, not '" + batches + "'");
  }
  for (const auto& s : secrets) {
    // An empty HMAC key is a key everybody knows.
    if (s.value.empty()) throw std::invalid_argument("secret '" + s.name + "' is empty");
    o.secrets.push_back(s.value);
  }
  if (o.secrets.empty()) throw std::invalid_argument("segment needs at least one secret");
  return std::make_unique<SegmentProvider>(std::move(o));
}

Verdict SegmentProvider::verify(const sdk::Request& request) const {
  auto header = request.header(kHeader);
  if (!header) return Verdict::missingSignature("X-Signature");
  if (request.headerCount(kHeader) > 1)
    return Verdict::malformedSignature("header X-Signature appears more than once");
  std::string_view received = *header;
  // Segment sends lower-case hex (Node's digest('hex')) and its own check compares strings.
  if (received.size() != kHexLen || !sdk::text::isLowerHex(received))
    return Verdict::malformedSignature("expected 40 lower-case hex digits in X-Signature");

  std::string_view signed_bytes = request.body;
  uint32_t flags = 0;
  size_t first = skipSpace(request.body, 0);
  if (first < request.body.size() && request.body[first] == '[') {
    if (options_.batches == Batches::kReject)
      return Verdict::reject(400, "batch_not_allowed",
                             "batched deliveries are refused: Segment signs only their first "
                             "event (set batches: first_item to accept them)");
    auto element = firstArrayElement(request.body);
    if (!element)
      return Verdict::malformedSignature("the batch has no complete first event to verify");
    signed_bytes = *element;
    flags = INLET_AUTH_FIRST_ITEM_ONLY;
  }

  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    std::string expected = crypto::toHex(crypto::hmac(crypto::Digest::Sha1, secret, signed_bytes));
    if (crypto::constantTimeEqual(expected, received)) {
      Verdict v = Verdict::accept();
      v.flags = flags;
      extractIds(signed_bytes, v);
      return v;
    }
    if (first_expected.empty()) first_expected = expected;
  }
  return Verdict::mismatch("expected " + first_expected + " (first secret), received " +
                           std::string(received) +
                           (flags ? " (over the first batch element)" : ""));
}

}  // namespace inlet::auth
