// GitLab webhooks with a secret token: GitLab sends the token configured on the webhook,
// verbatim, in X-Gitlab-Token (docs.gitlab.com/user/project/integrations/webhooks, "Secret
// token"). There is no payload signature, so the token is compared (in constant time) with the
// bound secrets.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials.h"

namespace inlet::auth {

class GitLabProvider : public sdk::AuthProvider {
 public:
  explicit GitLabProvider(const std::vector<std::string>& secrets);  // throws std::invalid_argument
  static std::unique_ptr<GitLabProvider> create(const sdk::Config& config,
                                                const std::vector<sdk::Secret>& secrets,
                                                const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  CredentialMatcher matcher_;
};

}  // namespace inlet::auth
