#include "stripe.h"

#include <inlet/crypto.h>
#include <inlet/json.h>
#include <inlet/text.h>

#include <charconv>
#include <optional>
#include <variant>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr std::string_view kHeader = "stripe-signature";
// A real header is "t=" + 10 digits plus ~68 bytes per active secret; anything near this size is
// not from Stripe and is refused before any work is done on it.
constexpr size_t kMaxHeaderBytes = 8192;

struct Header {
  std::string_view t;
  int64_t seconds = 0;
  std::vector<std::string_view> v1;
};

// stripe-node parseHeader: split on ',', then on the first '='; keep t and every v1, ignore every
// other scheme (v0 included) so a request cannot downgrade to a weaker one. A v1 value that is
// not a 64-digit lower-case hex digest can never match, so it is skipped too (stripe-python's
// test_header_contains_valid_signature accepts a header with an extra "v1=bad_signature"); when
// none is left the header is malformed. Shapes Stripe never sends (items without '=', a second t,
// spaces, control or non-ASCII bytes) are refused instead of skipped.
std::variant<Header, Verdict> parse(std::string_view value) {
  if (value.size() > kMaxHeaderBytes)
    return Verdict::malformedSignature("Stripe-Signature is too long");
  for (unsigned char c : value)
    if (c <= 0x20 || c >= 0x7f)
      return Verdict::malformedSignature(
          "Stripe-Signature contains a space, control or non-ASCII byte");
  Header h;
  bool have_t = false;
  size_t pos = 0;
  while (pos <= value.size()) {
    size_t comma = value.find(',', pos);
    std::string_view item =
        value.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? value.size() + 1 : comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Verdict::malformedSignature("Stripe-Signature item '" + std::string(item) +
                                         "' is not scheme=value");
    std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    if (key == "t") {
      if (have_t) return Verdict::malformedSignature("Stripe-Signature has more than one t");
      auto seconds = sdk::text::parseDecimal(val);
      if (!seconds)
        return Verdict::malformedSignature("Stripe-Signature t is not a Unix time in seconds");
      h.t = val;
      h.seconds = *seconds;
      have_t = true;
    } else if (key == "v1") {
      if (val.size() == 64 && sdk::text::isLowerHex(val)) h.v1.push_back(val);
    }
  }
  if (!have_t) return Verdict::malformedSignature("Stripe-Signature has no timestamp (t=)");
  if (h.v1.empty())
    return Verdict::malformedSignature("Stripe-Signature has no well-formed v1 signature");
  return h;
}

// The event's id (evt_…) and type, read from the body only once it is authenticated. A body that
// is not a JSON object leaves both empty rather than failing an authentic request.
void extractIds(std::string_view body, Verdict& verdict) {
  try {
    auto object = sdk::json::object(body);
    if (!object) return;
    if (object->has("id") && object->get("id").isString())
      verdict.delivery_id = object->getValue<std::string>("id");
    if (object->has("type") && object->get("type").isString())
      verdict.event_type = object->getValue<std::string>("type");
  } catch (...) {
  }
}

}  // namespace

StripeProvider::StripeProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<StripeProvider> StripeProvider::create(const sdk::Config& config,
                                                       const std::vector<sdk::Secret>& secrets,
                                                       const sdk::Host& host) {
  Options o;
  o.tolerance_ms = config.getDurationMs("tolerance", o.tolerance_ms);
  o.reject_future = config.getBool("reject_future", false);
  for (const auto& s : secrets) {
    // An empty HMAC key is a key everybody knows.
    if (s.value.empty()) throw std::invalid_argument("secret '" + s.name + "' is empty");
    // The key is the whole string, prefix included; a missing prefix usually means a copy error.
    if (s.value.rfind("whsec_", 0) != 0)
      host.warn("stripe: secret '" + s.name + "' does not start with whsec_");
    o.secrets.push_back(s.value);
  }
  if (o.secrets.empty()) throw std::invalid_argument("stripe needs at least one secret");
  return std::make_unique<StripeProvider>(std::move(o));
}

Verdict StripeProvider::verify(const sdk::Request& request) const {
  auto value = request.header(kHeader);
  if (!value) return Verdict::missingSignature("Stripe-Signature");
  if (request.headerCount(kHeader) > 1)
    return Verdict::malformedSignature("header Stripe-Signature appears more than once");
  auto parsed = parse(*value);
  if (auto* rejected = std::get_if<Verdict>(&parsed)) return *rejected;
  const Header& h = std::get<Header>(parsed);

  // While a rolled secret is still active Stripe sends one v1 per secret: any pair may match.
  bool matched = false;
  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    std::string expected =
        crypto::toHex(crypto::hmac(crypto::Digest::Sha256, secret, h.t, ".", request.body));
    for (std::string_view received : h.v1) matched |= crypto::constantTimeEqual(expected, received);
    if (matched) break;
    if (first_expected.empty()) first_expected = expected;
  }
  if (!matched)
    return Verdict::mismatch("expected v1=" + first_expected + " (first secret), received " +
                             std::string(*value));

  // Seconds, as the SDK (Math.floor(Date.now() / 1000)); both sides are >= 0, so no overflow.
  // `age > tolerance_ms / 1000` is exactly `age * 1000 > tolerance_ms` for whole seconds.
  const int64_t now_s = std::max<int64_t>(request.received_ms, 0) / 1000;
  const int64_t age_s = now_s - h.seconds;
  const int64_t tolerance_s = options_.tolerance_ms / 1000;
  if (options_.tolerance_ms > 0 &&
      (age_s > tolerance_s || (options_.reject_future && -age_s > tolerance_s)))
    return Verdict::staleTimestamp("t=" + std::string(h.t) + ", now=" + std::to_string(now_s) +
                                   ", tolerance=" + std::to_string(tolerance_s) + "s");

  Verdict v = Verdict::accept();
  v.signed_timestamp_ms = h.seconds <= INT64_MAX / 1000 ? h.seconds * 1000 : 0;
  extractIds(request.body, v);
  return v;
}

}  // namespace inlet::auth
