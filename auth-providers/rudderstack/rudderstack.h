// RudderStack Webhook / HTTP Webhook destinations. RudderStack does not sign payloads
// (rudderstack.com/docs/destinations/webhooks/setup-guide): the destination is configured with
// a static credential: Bearer token, Basic auth, or a custom header such as X-Signing-Key.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials.h"

namespace inlet::auth {

class RudderStackProvider : public sdk::AuthProvider {
 public:
  struct Options {
    CredentialScheme scheme = CredentialScheme::Bearer;  // Bearer, Basic or Header
    std::string header;                                  // CredentialScheme::Header only
    std::vector<std::string> secrets;
  };

  explicit RudderStackProvider(Options options);  // throws std::invalid_argument
  static std::unique_ptr<RudderStackProvider> create(const sdk::Config& config,
                                                     const std::vector<sdk::Secret>& secrets,
                                                     const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  CredentialMatcher matcher_;
};

}  // namespace inlet::auth
