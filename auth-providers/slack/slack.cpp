#include "slack.h"

#include <inlet/crypto.h>
#include <inlet/json.h>
#include <inlet/text.h>

#include <charconv>
#include <cstdlib>
#include <optional>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr std::string_view kSignature = "x-slack-signature";
constexpr std::string_view kTimestamp = "x-slack-request-timestamp";
constexpr std::string_view kPrefix = "v0=";

// One field of an application/x-www-form-urlencoded body, decoded; nullopt when absent or badly
// escaped.
std::optional<std::string> formField(std::string_view body, std::string_view name) {
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string_view pair =
        body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? body.size() + 1 : amp + 1;
    if (pair.substr(0, name.size()) != name || pair.size() <= name.size() ||
        pair[name.size()] != '=')
      continue;
    std::string out;
    std::string_view value = pair.substr(name.size() + 1);
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '+') {
        out += ' ';
      } else if (value[i] == '%') {
        auto byte = i + 2 < value.size() ? crypto::fromHex(value.substr(i + 1, 2)) : std::nullopt;
        if (!byte) return std::nullopt;
        out += *byte;
        i += 2;
      } else {
        out += value[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

std::string stringField(const Poco::JSON::Object::Ptr& object, const std::string& name) {
  if (!object || !object->has(name) || !object->get(name).isString()) return {};
  return object->getValue<std::string>(name);
}

// What an authentic body asks for: a url_verification handshake gets its challenge echoed back
// (and nothing is stored); anything else is accepted with its event type and id.
//  - Events API (JSON): event_type = event.type, else type; delivery_id = event_id.
//  - Slash commands (form): event_type = command ("/deploy"); delivery_id = trigger_id.
//  - Anything else (interactivity "payload=", non-JSON): accepted with both left empty.
Verdict describe(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') {
    Poco::JSON::Object::Ptr object = sdk::json::object(body);
    if (!object) return Verdict::accept();
    if (stringField(object, "type") == "url_verification") {
      if (!object->has("challenge") || !object->get("challenge").isString())
        return Verdict::reject(400, "invalid_challenge",
                               "url_verification without a string challenge");
      Verdict v;
      v.verdict = INLET_RESPOND;
      v.http_status = 200;
      v.event_type = "url_verification";
      v.response_content_type = "application/json";
      v.response_body = R"({"challenge":)" +
                        sdk::text::jsonString(object->getValue<std::string>("challenge")) + "}";
      // The host copies the answer into a fixed buffer: refuse rather than send it cut short.
      if (v.response_body.size() >= sizeof(inlet_auth_result::response_body))
        return Verdict::reject(400, "invalid_challenge", "url_verification challenge is too large");
      return v;
    }
    Verdict v = Verdict::accept(stringField(object, "event_id"), stringField(object, "type"));
    // getObject() is null when "event" is absent or not an object.
    std::string inner = stringField(object->getObject("event"), "type");
    if (!inner.empty()) v.event_type = inner;
    return v;
  }
  return Verdict::accept(formField(body, "trigger_id").value_or(""),
                         formField(body, "command").value_or(""));
}

}  // namespace

SlackProvider::SlackProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<SlackProvider> SlackProvider::create(const sdk::Config& config,
                                                     const std::vector<sdk::Secret>& secrets,
                                                     const sdk::Host&) {
  Options o;
  o.tolerance_ms = config.getDurationMs("tolerance", o.tolerance_ms);
  for (const auto& s : secrets) {
    // An empty HMAC key is a key everybody knows.
    if (s.value.empty()) throw std::invalid_argument("secret '" + s.name + "' is empty");
    o.secrets.push_back(s.value);
  }
  if (o.secrets.empty()) throw std::invalid_argument("slack needs at least one signing secret");
  return std::make_unique<SlackProvider>(std::move(o));
}

Verdict SlackProvider::verify(const sdk::Request& request) const {
  auto signature = request.header(kSignature);
  if (!signature) return Verdict::missingSignature("X-Slack-Signature");
  if (request.headerCount(kSignature) > 1)
    return Verdict::malformedSignature("header X-Slack-Signature appears more than once");
  auto timestamp = request.header(kTimestamp);
  if (!timestamp) return Verdict::malformedSignature("missing header X-Slack-Request-Timestamp");
  if (request.headerCount(kTimestamp) > 1)
    return Verdict::malformedSignature("header X-Slack-Request-Timestamp appears more than once");
  std::string_view received = *signature;
  // Slack sends "v0=" + lower-case hex and its SDKs compare the strings.
  if (received.size() != kPrefix.size() + 64 || received.substr(0, kPrefix.size()) != kPrefix ||
      !sdk::text::isLowerHex(received.substr(kPrefix.size())))
    return Verdict::malformedSignature(
        "expected v0=<64 lower-case hex digits> in X-Slack-Signature");
  auto seconds = sdk::text::parseDecimal(*timestamp);
  if (!seconds)
    return Verdict::malformedSignature("X-Slack-Request-Timestamp is not a Unix time in seconds");

  bool matched = false;
  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    std::string expected =
        std::string(kPrefix) + crypto::toHex(crypto::hmac(crypto::Digest::Sha256, secret,
                                                          "v0:", *timestamp, ":", request.body));
    if ((matched = crypto::constantTimeEqual(expected, received))) break;
    if (first_expected.empty()) first_expected = expected;
  }
  if (!matched)
    return Verdict::mismatch("expected " + first_expected + " (first secret), received " +
                             std::string(received));

  // Symmetric window in whole seconds, as the SDK (abs(int(time.time()) - ts) > 300); both sides
  // are >= 0 so the difference cannot overflow. `|d| > tol_ms / 1000` is `|d| * 1000 > tol_ms`.
  const int64_t now_s = std::max<int64_t>(request.received_ms, 0) / 1000;
  const int64_t skew_s = std::llabs(now_s - *seconds);
  if (skew_s > options_.tolerance_ms / 1000)
    return Verdict::staleTimestamp(
        "ts=" + std::string(*timestamp) + ", now=" + std::to_string(now_s) +
        ", tolerance=" + std::to_string(options_.tolerance_ms / 1000) + "s");

  Verdict v = describe(request.body);
  if (v.accepted()) v.signed_timestamp_ms = *seconds <= INT64_MAX / 1000 ? *seconds * 1000 : 0;
  return v;
}

}  // namespace inlet::auth
