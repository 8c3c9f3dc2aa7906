// Standard Webhooks (standardwebhooks.com, spec v1.0.0) and Svix, which sends the same scheme
// under svix-* header names:
//   webhook-id: msg_…   webhook-timestamp: <unix seconds>   webhook-signature: v1,<b64> v1a,<b64> …
//   v1  = base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)), key = base64-decode of the
//         secret without its "whsec_" prefix;
//   v1a = base64(Ed25519 signature of the same content), checked with a "whpk_" public key.
// Sources: standard-webhooks/standard-webhooks spec/standard-webhooks.md and libraries/
// {python,javascript,go}; docs.svix.com/receiving/verifying-payloads/how-manual.
#pragma once

#include <inlet/sdk.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class StandardWebhooksProvider : public sdk::AuthProvider {
 public:
  struct Options {
    int64_t tolerance_ms = 300'000;        // the libraries: |now - timestamp| <= 5 min
    std::vector<std::string> hmac_keys;    // decoded whsec_ keys (v1)
    std::vector<std::string> public_keys;  // decoded whpk_ keys, 32 bytes each (v1a)
  };

  // Limits on hostile input (generous: real senders send one to three signatures).
  static constexpr size_t kMaxSignatureHeader = 8192;
  static constexpr size_t kMaxSignatures = 32;
  static constexpr size_t kMaxIdLength = 255;

  explicit StandardWebhooksProvider(Options options);
  static std::unique_ptr<StandardWebhooksProvider> create(const sdk::Config& config,
                                                          const std::vector<sdk::Secret>& secrets,
                                                          const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

  // Parses one configured secret into `options` (whsec_… / bare base64 → HMAC key,
  // whpk_… → Ed25519 public key). Throws std::invalid_argument with a message that never
  // contains the secret.
  static void addSecret(Options& options, const std::string& secret, size_t index);

 private:
  Options options_;
};

}  // namespace inlet::auth
