// Shopify webhooks: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app client secret, raw body)).
// Sources: shopify.dev/docs/apps/build/webhooks/verify-deliveries; Shopify/shopify-app-js
// packages/apps/shopify-api/lib/webhooks/validate.ts (required headers) and its tests.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class ShopifyProvider : public sdk::AuthProvider {
 public:
  struct Options {
    bool require_headers = false;      // also demand the headers the official SDK requires
    std::vector<std::string> secrets;  // any may match (Shopify rotation takes up to an hour)
  };

  explicit ShopifyProvider(Options options);
  static std::unique_ptr<ShopifyProvider> create(const sdk::Config& config,
                                                 const std::vector<sdk::Secret>& secrets,
                                                 const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
