#include "rudderstack.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <stdexcept>

namespace inlet::auth {

namespace {

// A RudderStack event (rudderstack.com/docs/event-spec/standard-events/common-fields) carries
// "messageId" (unique per event, kept when RudderStack retries) and "type" (track, identify,
// page, screen, group, alias). Bodies shaped otherwise (a transformation may reshape them) are
// accepted without those fields.
void readEvent(std::string_view body, std::string& id, std::string& type) {
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
    id = str("messageId");
    type = str("type");
  } catch (...) {
    // The credentials were right; the pipeline's decoder decides about a non-JSON body.
  }
}

}  // namespace

RudderStackProvider::RudderStackProvider(Options o) : matcher_(o.scheme, o.header, o.secrets) {}

std::unique_ptr<RudderStackProvider> RudderStackProvider::create(
    const sdk::Config& config, const std::vector<sdk::Secret>& secrets, const sdk::Host&) {
  Options o;
  const std::string scheme = config.getString("scheme", "bearer");
  if (scheme == "query")
    throw std::invalid_argument("rudderstack: scheme must be bearer, basic or header");
  o.scheme = credentialSchemeByName(scheme);
  if (o.scheme == CredentialScheme::Header) {
    if (!config.has("header"))
      throw std::invalid_argument(
          "rudderstack: scheme header needs option 'header' (e.g. X-Signing-Key)");
    o.header = config.getString("header");
  } else if (config.has("header")) {
    throw std::invalid_argument("rudderstack: option 'header' only applies to scheme: header");
  }
  for (const auto& s : secrets) o.secrets.push_back(s.value);
  try {
    return std::make_unique<RudderStackProvider>(std::move(o));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("rudderstack: ") + e.what());
  }
}

sdk::Verdict RudderStackProvider::verify(const sdk::Request& request) const {
  if (auto rejection = matcher_.check(request)) return *rejection;
  std::string id, type;
  readEvent(request.body, id, type);
  return sdk::Verdict::accept(std::move(id), std::move(type));
}

}  // namespace inlet::auth
