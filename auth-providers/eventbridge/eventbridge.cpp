#include "eventbridge.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

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

// An EventBridge event envelope carries "id" (unique per event, kept across retries) and
// "detail-type". An input transformer on the target may replace the envelope, so a body
// without them (or not JSON at all) is still accepted, just without those fields.
void readEnvelope(std::string_view body, std::string& id, std::string& type) {
  size_t i = body.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || body[i] != '{') return;
  try {
    Poco::JSON::Parser parser;
    auto obj = parser.parse(std::string(body)).extract<Poco::JSON::Object::Ptr>();
    if (!obj) return;
    auto str = [&](const char* key) {
      auto v = obj->get(key);
      return v.isString() ? v.extract<std::string>() : std::string();
    };
    id = str("id");
    type = str("detail-type");
  } catch (...) {
    // Not our call to reject: the credentials were right; the pipeline's decoder decides what
    // to do with a body that is not JSON.
  }
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
  std::string id, type;
  readEnvelope(request.body, id, type);
  return sdk::Verdict::accept(std::move(id), std::move(type));
}

}  // namespace inlet::auth
