// GitHub webhooks: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, raw body)).
// Source: docs.github.com "Validating webhook deliveries"; octokit/webhooks-methods verify().
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class GitHubProvider : public sdk::AuthProvider {
 public:
  struct Options {
    bool allow_sha1 = false;           // accept the legacy X-Hub-Signature (HMAC-SHA1)
    std::vector<std::string> secrets;  // any may match (rotation)
  };

  explicit GitHubProvider(Options options);
  static std::unique_ptr<GitHubProvider> create(const sdk::Config& config,
                                                const std::vector<sdk::Secret>& secrets,
                                                const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
