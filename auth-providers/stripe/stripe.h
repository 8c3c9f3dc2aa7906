// Stripe webhooks: Stripe-Signature: t=<unix s>,v1=<hex>[,v1=<hex>…][,v0=<hex>], where each v1 is
// hex(HMAC-SHA256(key = the whole "whsec_…" string, msg = t + "." + raw body)).
// Sources: stripe/stripe-node src/Webhooks.ts (parseHeader, verifyHeader, DEFAULT_TOLERANCE);
// stripe-python tests/test_webhook.py; docs.stripe.com/webhooks/signature.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class StripeProvider : public sdk::AuthProvider {
 public:
  struct Options {
    int64_t tolerance_ms = 300'000;    // reject when now - t > tolerance; 0 disables (as the SDK)
    bool reject_future = false;        // also reject t - now > tolerance (the SDKs do not)
    std::vector<std::string> secrets;  // any may match (rotation)
  };

  explicit StripeProvider(Options options);
  static std::unique_ptr<StripeProvider> create(const sdk::Config& config,
                                                const std::vector<sdk::Secret>& secrets,
                                                const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
