// Discord interactions and webhook events: Ed25519 over X-Signature-Timestamp + raw body,
// signature in X-Signature-Ed25519 (hex), key = the application's public key (hex).
// Source: discord.com/developers/docs/interactions/overview ("Security and Authorization"),
// discord.com/developers/docs/events/webhook-events; RFC 8032 for Ed25519.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class DiscordProvider : public sdk::AuthProvider {
 public:
  struct Options {
    std::vector<std::string> public_keys;  // raw 32-byte Ed25519 keys; any may match
    int64_t tolerance_ms = 0;              // 0: no freshness check (Discord publishes none)
    bool respond_to_ping = true;           // answer Discord's PINGs instead of storing them
  };

  explicit DiscordProvider(Options options);
  static std::unique_ptr<DiscordProvider> create(const sdk::Config& config,
                                                 const std::vector<sdk::Secret>& secrets,
                                                 const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
