#include "hubspot.h"

#include <inlet/crypto.h>
#include <inlet/json.h>
#include <inlet/text.h>

#include <cctype>
#include <charconv>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr std::string_view kSignature = "x-hubspot-signature";
constexpr std::string_view kVersion = "x-hubspot-signature-version";
constexpr std::string_view kSignatureV3 = "x-hubspot-signature-v3";
constexpr std::string_view kTimestamp = "x-hubspot-request-timestamp";

// application/x-www-form-urlencoded decoding of one query component; nullopt on a bad escape.
std::optional<std::string> formDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      auto byte = i + 2 < s.size() ? crypto::fromHex(s.substr(i + 1, 2)) : std::nullopt;
      if (!byte) return std::nullopt;
      out += *byte;
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> idText(const Poco::JSON::Object::Ptr& event, const std::string& name) {
  if (!event || !event->has(name)) return std::nullopt;
  auto value = event->get(name);
  if (value.isString() || value.isInteger()) return value.convert<std::string>();
  return std::nullopt;
}

// HubSpot posts a JSON array of events ({eventId, subscriptionType, …}), up to 100 per request.
// A single event gives the delivery id; the type is set when every event shares it. Read only
// after verification; anything else leaves both empty.
void extractIds(std::string_view body, Verdict& verdict) {
  try {
    auto read = sdk::json::parse(body);
    if (!read) return;
    const Poco::Dynamic::Var& parsed = *read;
    std::vector<Poco::JSON::Object::Ptr> events;
    if (parsed.type() == typeid(Poco::JSON::Array::Ptr)) {
      auto array = parsed.extract<Poco::JSON::Array::Ptr>();
      for (size_t i = 0; i < array->size(); ++i) events.push_back(array->getObject(i));
    } else if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
      events.push_back(parsed.extract<Poco::JSON::Object::Ptr>());
    }
    if (events.empty()) return;
    if (events.size() == 1) verdict.delivery_id = idText(events[0], "eventId").value_or("");
    auto type = idText(events[0], "subscriptionType");
    for (const auto& event : events)
      if (idText(event, "subscriptionType") != type) return;
    verdict.event_type = type.value_or("");
  } catch (...) {
  }
}

// Adds the ids to a verdict that accepted the request.
Verdict withIds(Verdict verdict, std::string_view body) {
  if (verdict.accepted()) extractIds(body, verdict);
  return verdict;
}

}  // namespace

std::string decodeV3Uri(std::string_view url) {
  static constexpr std::string_view kDecoded = ":/?@!$'()*,;";
  std::string out;
  out.reserve(url.size());
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] == '%' && i + 2 < url.size()) {
      auto byte = crypto::fromHex(url.substr(i + 1, 2));
      if (byte && kDecoded.find((*byte)[0]) != std::string_view::npos) {
        out += *byte;
        i += 2;
        continue;
      }
    }
    out += url[i];
  }
  return out;
}

HubSpotProvider::HubSpotProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<HubSpotProvider> HubSpotProvider::create(const sdk::Config& config,
                                                         const std::vector<sdk::Secret>& secrets,
                                                         const sdk::Host&) {
  Options o;
  std::string version = config.getString("version", "auto");
  if (version == "auto")
    o.version = Version::kAuto;
  else if (version == "v1")
    o.version = Version::kV1;
  else if (version == "v2")
    o.version = Version::kV2;
  else if (version == "v3")
    o.version = Version::kV3;
  else
    throw std::invalid_argument("version must be auto, v1, v2 or v3, not '" + version + "'");
  o.tolerance_ms = config.getDurationMs("tolerance", o.tolerance_ms);
  o.reject_future = config.getBool("reject_future", false);
  if (auto key = config.getObject("api_key")) {
    ApiKey k;
    k.name = key->getString("name");
    std::string in = key->getString("in", "header");
    if (in != "header" && in != "query")
      throw std::invalid_argument("api_key.in must be header or query, not '" + in + "'");
    k.in_query = in == "query";
    if (k.name.empty()) throw std::invalid_argument("api_key.name must not be empty");
    // The host lower-cases header names; query parameter names are case-sensitive.
    if (!k.in_query)
      for (auto& c : k.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (o.version != Version::kAuto)
      throw std::invalid_argument(
          "api_key and version are exclusive: an API-key workflow "
          "webhook carries no signature");
    o.api_key = std::move(k);
  }
  for (const auto& s : secrets) {
    // An empty secret would make an empty key, or an unsalted hash, acceptable.
    if (s.value.empty()) throw std::invalid_argument("secret '" + s.name + "' is empty");
    o.secrets.push_back(s.value);
  }
  if (o.secrets.empty()) throw std::invalid_argument("hubspot needs at least one secret");
  return std::make_unique<HubSpotProvider>(std::move(o));
}

Verdict HubSpotProvider::verify(const sdk::Request& request) const {
  if (options_.api_key) return verifyApiKey(request);
  Version version = options_.version;
  if (version == Version::kAuto) {
    // HubSpot sends the older signatures next to v3 for compatibility; v3 is preferred because
    // it covers the URL and a timestamp.
    if (request.header(kSignatureV3)) {
      version = Version::kV3;
    } else if (auto named = request.header(kVersion)) {
      if (request.headerCount(kVersion) > 1)
        return Verdict::malformedSignature(
            "header X-HubSpot-Signature-Version appears more than once");
      if (*named == "v1")
        version = Version::kV1;
      else if (*named == "v2")
        version = Version::kV2;
      else
        return Verdict::malformedSignature("X-HubSpot-Signature-Version is neither v1 nor v2");
    } else if (request.header(kSignature)) {
      return Verdict::malformedSignature("missing header X-HubSpot-Signature-Version");
    } else {
      return Verdict::missingSignature("X-HubSpot-Signature-v3");
    }
  }
  Verdict verdict = version == Version::kV3 ? verifyV3(request) : verifyLegacy(request, version);
  return withIds(std::move(verdict), request.body);
}

Verdict HubSpotProvider::verifyLegacy(const sdk::Request& request, Version version) const {
  auto header = request.header(kSignature);
  if (!header) return Verdict::missingSignature("X-HubSpot-Signature");
  if (request.headerCount(kSignature) > 1)
    return Verdict::malformedSignature("header X-HubSpot-Signature appears more than once");
  // Lower-case hex, compared as text, as the SDKs do.
  std::string_view received = *header;
  if (received.size() != 64 || !sdk::text::isLowerHex(received))
    return Verdict::malformedSignature("expected 64 lower-case hex digits in X-HubSpot-Signature");

  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    // Plain SHA-256 with the secret as a prefix, not an HMAC: that is HubSpot's v1/v2 scheme.
    std::string digest = version == Version::kV1
                             ? crypto::hash(crypto::Digest::Sha256, secret, request.body)
                             : crypto::hash(crypto::Digest::Sha256, secret, request.method,
                                            request.url, request.body);
    std::string expected = crypto::toHex(digest);
    if (crypto::constantTimeEqual(expected, received)) return Verdict::accept();
    if (first_expected.empty()) first_expected = expected;
  }
  return Verdict::mismatch(std::string(version == Version::kV1 ? "v1" : "v2") + ": expected " +
                           first_expected + " (first secret), received " + std::string(received));
}

Verdict HubSpotProvider::verifyV3(const sdk::Request& request) const {
  auto header = request.header(kSignatureV3);
  if (!header) return Verdict::missingSignature("X-HubSpot-Signature-v3");
  if (request.headerCount(kSignatureV3) > 1)
    return Verdict::malformedSignature("header X-HubSpot-Signature-v3 appears more than once");
  auto timestamp = request.header(kTimestamp);
  if (!timestamp) return Verdict::malformedSignature("missing header X-HubSpot-Request-Timestamp");
  if (request.headerCount(kTimestamp) > 1)
    return Verdict::malformedSignature("header X-HubSpot-Request-Timestamp appears more than once");
  std::string_view received = *header;
  // Padded standard base64 of 32 bytes, compared as text (the SDKs compare the strings).
  auto decoded = received.size() == 44 ? crypto::fromBase64(received) : std::nullopt;
  if (!decoded || decoded->size() != 32)
    return Verdict::malformedSignature(
        "expected base64 of a 32-byte HMAC-SHA256 in X-HubSpot-Signature-v3");
  auto millis = sdk::text::parseDecimal(*timestamp);
  if (!millis)
    return Verdict::malformedSignature(
        "X-HubSpot-Request-Timestamp is not a Unix time in milliseconds");

  // The docs decode a fixed set of escapes before signing; the official SDKs sign the URL as
  // is. Both bind the same request, so either form is accepted.
  std::string decoded_uri = decodeV3Uri(request.url);
  std::vector<std::string_view> uris = {decoded_uri};
  if (decoded_uri != request.url) uris.push_back(request.url);

  bool matched = false;
  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    for (std::string_view uri : uris) {
      std::string expected = crypto::toBase64(crypto::hmac(
          crypto::Digest::Sha256, secret, request.method, uri, request.body, *timestamp));
      if ((matched = crypto::constantTimeEqual(expected, received))) break;
      if (first_expected.empty()) first_expected = expected;
    }
    if (matched) break;
  }
  if (!matched)
    return Verdict::mismatch("v3: expected " + first_expected + " (first secret), received " +
                             std::string(received));

  // Milliseconds on both sides, both >= 0, so the difference cannot overflow.
  const int64_t age_ms = std::max<int64_t>(request.received_ms, 0) - *millis;
  if (age_ms > options_.tolerance_ms || (options_.reject_future && -age_ms > options_.tolerance_ms))
    return Verdict::staleTimestamp("timestamp=" + std::string(*timestamp) +
                                   "ms, now=" + std::to_string(request.received_ms) +
                                   "ms, tolerance=" + std::to_string(options_.tolerance_ms) + "ms");
  Verdict v = Verdict::accept();
  v.signed_timestamp_ms = *millis;
  return v;
}

Verdict HubSpotProvider::verifyApiKey(const sdk::Request& request) const {
  const ApiKey& key = *options_.api_key;
  std::vector<std::string> values;
  if (key.in_query) {
    std::string_view query = request.query();
    size_t pos = 0;
    while (!query.empty() && pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string_view pair =
          query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
      pos = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
      size_t eq = pair.find('=');
      auto name = formDecode(pair.substr(0, eq));
      if (!name || *name != key.name) continue;
      auto value = formDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!value)
        return Verdict::malformedSignature("query parameter " + key.name + " is badly escaped");
      values.push_back(std::move(*value));
    }
  } else {
    for (const auto& [name, value] : request.headers)
      if (name == key.name) values.emplace_back(value);
  }
  const std::string where = (key.in_query ? "query parameter " : "header ") + key.name;
  if (values.empty()) return Verdict::reject(401, "missing_credentials", "missing " + where);
  if (values.size() > 1) return Verdict::malformedSignature(where + " appears more than once");
  // The key is a static secret: compare in constant time so its bytes cannot be guessed one by
  // one from response timing.
  for (const auto& secret : options_.secrets)
    if (crypto::constantTimeEqual(secret, values[0]))
      return withIds(Verdict::accept(), request.body);
  return Verdict::badCredentials(where + " does not match");
}

}  // namespace inlet::auth
