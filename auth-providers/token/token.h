// Generic static-credential provider: the sender presents a fixed secret as a bearer token,
// HTTP Basic credentials, a custom header or a query parameter (see credentials.h).
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials.h"

namespace inlet::auth {

class TokenProvider : public sdk::AuthProvider {
 public:
  struct Options {
    CredentialScheme scheme = CredentialScheme::Bearer;
    std::string name;             // header name (scheme header) or parameter (scheme query)
    std::string delivery_header;  // optional: header carrying the sender's delivery id
    std::string event_header;     // optional: header carrying the event type
    std::vector<std::string> secrets;
  };

  explicit TokenProvider(Options options);  // throws std::invalid_argument
  static std::unique_ptr<TokenProvider> create(const sdk::Config& config,
                                               const std::vector<sdk::Secret>& secrets,
                                               const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  CredentialMatcher matcher_;
  std::string delivery_header_, event_header_;
};

}  // namespace inlet::auth
