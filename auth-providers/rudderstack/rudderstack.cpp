#include "rudderstack.h"

#include <stdexcept>

namespace inlet::auth {

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
  // A RudderStack event carries "messageId" (unique per event, kept when RudderStack retries) and
  // "type" (rudderstack.com/docs/event-spec/standard-events/common-fields).
  auto fields = sdk::jsonStringFields(request.body, {"messageId", "type"});
  return sdk::Verdict::accept(std::move(fields[0]), std::move(fields[1]));
}

}  // namespace inlet::auth
