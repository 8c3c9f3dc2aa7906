// `hmac`: a declarative HMAC webhook verifier. The operator describes a provider's scheme in
// YAML (a "recipe": see recipe.h and README.md) instead of writing a plugin.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "recipe.h"

namespace inlet::auth {

class HmacProvider : public sdk::AuthProvider {
 public:
  // `keys` are the prepared HMAC keys (hmac::prepareKey), in configured order; any may match.
  HmacProvider(hmac::Recipe recipe, std::vector<std::string> keys);
  static std::unique_ptr<HmacProvider> create(const sdk::Config& config,
                                              const std::vector<sdk::Secret>& secrets,
                                              const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

  const hmac::Recipe& recipe() const { return recipe_; }

 private:
  hmac::Recipe recipe_;
  std::vector<std::string> keys_;
  size_t digest_size_;
};

}  // namespace inlet::auth
