// SendGrid Signed Event Webhook: ECDSA P-256 / SHA-256 over
// X-Twilio-Email-Event-Webhook-Timestamp + raw body; the signature header is base64 DER; the
// "Verification Key" is base64 SubjectPublicKeyInfo DER.
// Source: sendgrid/sendgrid-nodejs packages/eventwebhook/src/eventwebhook.js and its spec.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace inlet::auth {

class SendGridProvider : public sdk::AuthProvider {
 public:
  // Parses a base64 SPKI P-256 public key; throws std::invalid_argument naming `name` only.
  static std::shared_ptr<EVP_PKEY> parsePublicKey(const std::string& name,
                                                  std::string_view base64_spki);

  struct Options {
    std::vector<std::shared_ptr<EVP_PKEY>> keys;  // any may match (rotation)
    int64_t tolerance_ms = 0;                     // 0: no freshness check (the SDK does none)
  };

  explicit SendGridProvider(Options options);
  static std::unique_ptr<SendGridProvider> create(const sdk::Config& config,
                                                  const std::vector<sdk::Secret>& secrets,
                                                  const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
