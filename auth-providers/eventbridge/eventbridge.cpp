#include "eventbridge.h"

#include <stdexcept>

namespace inlet::auth {

namespace {

CredentialMatcher makeMatcher(const EventBridgeProvider::Options& o) {
  switch (o.type) {
    case EventBridgeProvider::Type::Basic:
      return {CredentialScheme::Basic, "", o.secrets};
    case EventBridgeProvider::Type::ApiKey:
      return {CredentialScheme::Header, o.header, o.secrets};
    case EventBridgeProvider::Type::OAuth:
      return {CredentialScheme::Bearer, "", o.secrets};
  }
  throw std::invalid_argument("unknown type");
}

}  // namespace

EventBridgeProvider::EventBridgeProvider(Options options) : matcher_(makeMatcher(options)) {}

std::unique_ptr<EventBridgeProvider> EventBridgeProvider::create(
    const sdk::Config& config, const std::vector<sdk::Secret>& secrets, const sdk::Host&) {
  Options o;
  const std::string type = config.getString("type");
  if (type == "basic")
    o.type = Type::Basic;
  else if (type == "api_key")
    o.type = Type::ApiKey;
  else if (type == "oauth")
    o.type = Type::OAuth;
  else
    throw std::invalid_argument("eventbridge: option 'type' must be basic, api_key or oauth");
  if (config.has("header") && o.type != Type::ApiKey)
    throw std::invalid_argument("eventbridge: option 'header' only applies to type: api_key");
  o.header = config.getString("header", "x-api-key");
  for (const auto& s : secrets) o.secrets.push_back(s.value);
  try {
    return std::make_unique<EventBridgeProvider>(std::move(o));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("eventbridge: ") + e.what());
  }
}

sdk::Verdict EventBridgeProvider::verify(const sdk::Request& request) const {
  if (auto rejection = matcher_.check(request)) return *rejection;
  // Only now, with the sender authenticated, is the body worth parsing.
  // An EventBridge event envelope carries "id" (unique per event, kept across retries) and
  // "detail-type"; an input transformer may replace the envelope, so they may be absent.
  auto fields = sdk::jsonStringFields(request.body, {"id", "detail-type"});
  return sdk::Verdict::accept(std::move(fields[0]), std::move(fields[1]));
}

}  // namespace inlet::auth
