// Slack request signing: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret,
// "v0:" + X-Slack-Request-Timestamp + ":" + raw body)), timestamp within ±5 minutes.
// Sources: api.slack.com/authentication/verifying-requests-from-slack; slackapi/python-slack-sdk
// slack_sdk/signature/__init__.py (SignatureVerifier) and its tests.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class SlackProvider : public sdk::AuthProvider {
 public:
  struct Options {
    int64_t tolerance_ms = 300'000;    // reject when |now - ts| > tolerance (Slack: 5 minutes)
    std::vector<std::string> secrets;  // any may match (rotation)
  };

  explicit SlackProvider(Options options);
  static std::unique_ptr<SlackProvider> create(const sdk::Config& config,
                                               const std::vector<sdk::Secret>& secrets,
                                               const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

}  // namespace inlet::auth
