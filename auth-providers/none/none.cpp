#include "none.h"

#include <stdexcept>

namespace inlet::auth {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

}  // namespace

NoneProvider::NoneProvider(Options options) : options_(std::move(options)) {
  options_.delivery_header = lower(options_.delivery_header);
  options_.event_header = lower(options_.event_header);
}

std::unique_ptr<NoneProvider> NoneProvider::create(const sdk::Config& config,
                                                   const std::vector<sdk::Secret>& secrets,
                                                   const sdk::Host& host) {
  // Secrets bound to an unauthenticated pipeline mean the operator believes something is being
  // checked. Fail closed: refuse the config instead of silently ignoring them.
  if (!secrets.empty())
    throw std::invalid_argument(
        "auth provider 'none' checks nothing and takes no secrets; remove `secrets:` or choose a "
        "provider that verifies them (e.g. token)");
  Options o;
  o.delivery_header = config.getString("delivery_header");
  o.event_header = config.getString("event_header");
  host.warn(kWarning);
  return std::make_unique<NoneProvider>(std::move(o));
}

sdk::Verdict NoneProvider::verify(const sdk::Request& request) const {
  auto pick = [&](const std::string& name) {
    return name.empty() ? std::string() : std::string(request.header(name).value_or(""));
  };
  return sdk::Verdict::accept(pick(options_.delivery_header), pick(options_.event_header));
}

}  // namespace inlet::auth
