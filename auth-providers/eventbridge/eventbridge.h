// AWS EventBridge API destinations. EventBridge does not sign payloads: a Connection attaches
// static credentials to every invocation (docs.aws.amazon.com/eventbridge/latest/userguide/
// eb-api-destinations.html, API CreateConnection):
//   BASIC                     Authorization: Basic base64(username:password)
//   API_KEY                   <ApiKeyName>: <ApiKeyValue>
//   OAUTH_CLIENT_CREDENTIALS  Authorization: Bearer <access token from your token endpoint>
// so verification is a constant-time comparison of those credentials with the bound secrets.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "credentials.h"

namespace inlet::auth {

class EventBridgeProvider : public sdk::AuthProvider {
 public:
  enum class Type { Basic, ApiKey, OAuth };
  struct Options {
    Type type = Type::ApiKey;
    std::string header = "x-api-key";  // Type::ApiKey: the connection's ApiKeyName
    std::vector<std::string> secrets;  // basic: "user:password"; api_key: key value; oauth: token
  };

  explicit EventBridgeProvider(Options options);  // throws std::invalid_argument
  static std::unique_ptr<EventBridgeProvider> create(const sdk::Config& config,
                                                     const std::vector<sdk::Secret>& secrets,
                                                     const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  CredentialMatcher matcher_;
};

}  // namespace inlet::auth
