#include "discord.h"

#include <inlet/crypto.h>
#include <inlet/json.h>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

// Discord requires every verification failure to be answered with 401 and probes the endpoint
// with invalid signatures before saving it, so this provider keeps the shared reason codes but
// answers 401 even where other providers answer 400 (missing or malformed headers).
Verdict unauthorized(Verdict v) {
  v.http_status = 401;
  return v;
}

bool isHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

std::optional<int64_t> unixSeconds(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

const char* interactionName(int64_t type) {
  switch (type) {
    case 1:
      return "PING";
    case 2:
      return "APPLICATION_COMMAND";
    case 3:
      return "MESSAGE_COMPONENT";
    case 4:
      return "APPLICATION_COMMAND_AUTOCOMPLETE";
    case 5:
      return "MODAL_SUBMIT";
  }
  return "";
}

}  // namespace

DiscordProvider::DiscordProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<DiscordProvider> DiscordProvider::create(const sdk::Config& config,
                                                         const std::vector<sdk::Secret>& secrets,
                                                         const sdk::Host&) {
  Options o;
  o.tolerance_ms = config.getDurationMs("tolerance", 0);
  if (o.tolerance_ms < 0) throw std::invalid_argument("tolerance: must not be negative");
  o.respond_to_ping = config.getBool("respond_to_ping", true);
  for (const auto& s : secrets) {
    auto key = crypto::fromHex(s.value);
    if (!key || key->size() != 32)
      throw std::invalid_argument("secret '" + s.name +
                                  "' is not an Ed25519 public key (64 hex digits, the "
                                  "application's PUBLIC KEY in the developer portal)");
    o.public_keys.push_back(std::move(*key));
  }
  if (o.public_keys.empty())
    throw std::invalid_argument("discord needs at least one secret: the application public key");
  return std::make_unique<DiscordProvider>(std::move(o));
}

Verdict DiscordProvider::verify(const sdk::Request& request) const {
  for (const char* name : {"x-signature-ed25519", "x-signature-timestamp"}) {
    if (!request.header(name)) return unauthorized(Verdict::missingSignature(name));
    if (request.headerCount(name) > 1)
      return unauthorized(
          Verdict::malformedSignature("header " + std::string(name) + " appears more than once"));
  }
  std::string_view signature_hex = *request.header("x-signature-ed25519");
  std::string_view timestamp = *request.header("x-signature-timestamp");
  if (signature_hex.size() != 128 || !isHex(signature_hex))
    return unauthorized(
        Verdict::malformedSignature("X-Signature-Ed25519 must be 128 hex digits (64 bytes)"));
  if (timestamp.empty() || timestamp.size() > 64)
    return unauthorized(Verdict::malformedSignature("X-Signature-Timestamp is empty or too long"));
  std::string signature = *crypto::fromHex(signature_hex);

  // Ed25519 signs the whole message in one pass (no streaming), so it is assembled once.
  std::string message;
  message.reserve(timestamp.size() + request.body.size());
  message.append(timestamp).append(request.body);
  bool ok = false;
  for (const auto& key : options_.public_keys)
    if ((ok = crypto::ed25519Verify(key, signature, message))) break;
  if (!ok) return unauthorized(Verdict::mismatch("Ed25519 signature does not verify"));

  // Discord sends Unix seconds; the value is authentic now, so it is reported when it parses.
  auto seconds = unixSeconds(timestamp);
  int64_t signed_ms = seconds ? *seconds * 1000 : 0;
  if (options_.tolerance_ms > 0) {
    if (!seconds)
      return unauthorized(Verdict::malformedSignature("X-Signature-Timestamp is not Unix seconds"));
    int64_t age = request.received_ms - signed_ms;
    if (age > options_.tolerance_ms || -age > options_.tolerance_ms)
      return unauthorized(Verdict::staleTimestamp(
          "timestamp " + std::string(timestamp) + " is " + std::to_string(age / 1000) +
          " s from the receive time; tolerance " + std::to_string(options_.tolerance_ms / 1000) +
          " s"));
  }

  // The body is authentic: read what identifies it. Interactions carry "token"/"id"; webhook
  // events carry "version" and an "event" object (type 0 = PING, 1 = event).
  std::string delivery_id, event_type;
  bool webhook_event = false;
  int64_t type = -1;
  try {
    auto root = sdk::json::parse(request.body).value_or(Poco::Dynamic::Var());
    if (root.type() == typeid(Poco::JSON::Object::Ptr)) {
      auto obj = root.extract<Poco::JSON::Object::Ptr>();
      webhook_event = obj->has("version") && !obj->has("token");
      if (obj->has("type") && obj->get("type").isInteger())
        type = obj->getValue<Poco::Int64>("type");
      if (obj->has("id") && obj->get("id").isString())
        delivery_id = obj->getValue<std::string>("id");
      if (webhook_event) {
        auto event = obj->getObject("event");
        if (event && event->has("type") && event->get("type").isString())
          event_type = event->getValue<std::string>("type");
      } else {
        event_type = interactionName(type);
      }
    }
  } catch (const std::exception&) {
    // Not JSON: authentic but unidentified; the pipeline's decoder decides what to do with it.
  }

  if (options_.respond_to_ping) {
    if (!webhook_event && type == 1) {
      // Interactions endpoint check: Discord expects {"type":1} (PONG) in the response.
      Verdict v;
      v.verdict = INLET_RESPOND;
      v.http_status = 200;
      v.response_content_type = "application/json";
      v.response_body = R"({"type":1})";
      v.signed_timestamp_ms = signed_ms;
      return v;
    }
    if (webhook_event && type == 0) {
      // Webhook events endpoint check: Discord expects 204 with an empty body.
      Verdict v;
      v.verdict = INLET_RESPOND;
      v.http_status = 204;
      v.signed_timestamp_ms = signed_ms;
      return v;
    }
  }
  Verdict v = Verdict::accept(std::move(delivery_id), std::move(event_type));
  v.signed_timestamp_ms = signed_ms;
  return v;
}

}  // namespace inlet::auth
