#include "token.h"

#include <stdexcept>

namespace inlet::auth {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

}  // namespace

TokenProvider::TokenProvider(Options o)
    : matcher_(o.scheme, o.name, o.secrets),
      delivery_header_(lower(o.delivery_header)),
      event_header_(lower(o.event_header)) {}

std::unique_ptr<TokenProvider> TokenProvider::create(const sdk::Config& config,
                                                     const std::vector<sdk::Secret>& secrets,
                                                     const sdk::Host&) {
  Options o;
  o.scheme = credentialSchemeByName(config.getString("scheme", "bearer"));
  // An option that the chosen scheme ignores is almost certainly a mistake (e.g. `header:` set
  // but `scheme:` left at bearer): refuse it rather than authenticate differently than intended.
  if (config.has("header") && o.scheme != CredentialScheme::Header)
    throw std::invalid_argument("option 'header' only applies to scheme: header");
  if (config.has("param") && o.scheme != CredentialScheme::Query)
    throw std::invalid_argument("option 'param' only applies to scheme: query");
  if (o.scheme == CredentialScheme::Header) o.name = config.getString("header", "x-api-key");
  if (o.scheme == CredentialScheme::Query) o.name = config.getString("param", "token");
  o.delivery_header = config.getString("delivery_header");
  o.event_header = config.getString("event_header");
  for (const auto& s : secrets) o.secrets.push_back(s.value);
  try {
    return std::make_unique<TokenProvider>(std::move(o));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("token: ") + e.what());
  }
}

sdk::Verdict TokenProvider::verify(const sdk::Request& request) const {
  if (auto rejection = matcher_.check(request)) return *rejection;
  auto pick = [&](const std::string& name) {
    return name.empty() ? std::string() : std::string(request.header(name).value_or(""));
  };
  return sdk::Verdict::accept(pick(delivery_header_), pick(event_header_));
}

}  // namespace inlet::auth
