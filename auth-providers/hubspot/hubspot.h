// HubSpot request validation, every version HubSpot sends:
//  v1  X-HubSpot-Signature = hex(SHA-256(client_secret + body))                 (plain hash)
//  v2  X-HubSpot-Signature = hex(SHA-256(client_secret + method + URL + body))  (plain hash)
//  v3  X-HubSpot-Signature-v3 = base64(HMAC-SHA256(client_secret,
//          method + URI + body + X-HubSpot-Request-Timestamp)), timestamp in ms, at most 5 min old
// plus the workflow "Send a webhook" API-key style (a static key in a header or query parameter).
// Sources: developers.hubspot.com/docs/api/webhooks/validating-requests (incl. the v3 URI decode
// table), /docs/faq/v1-request-validation, /docs/faq/v2-request-validation; HubSpot/hubspot-api-
// {nodejs,python} Signature utilities and tests; knowledge.hubspot.com "How to trigger webhooks
// in HubSpot workflows" (API key authentication).
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::auth {

class HubSpotProvider : public sdk::AuthProvider {
 public:
  enum class Version { kAuto, kV1, kV2, kV3 };
  struct ApiKey {
    std::string name;       // header name (stored lower-case) or query parameter name
    bool in_query = false;  // false: a request header
  };
  struct Options {
    Version version =
        Version::kAuto;              // auto: v3 when its header is present, else the version header
    int64_t tolerance_ms = 300'000;  // v3: reject when now - timestamp > tolerance
    bool reject_future = false;      // v3: also reject timestamp - now > tolerance (SDKs do not)
    std::optional<ApiKey> api_key;   // set: only the static key is checked, no signature
    std::vector<std::string> secrets;  // client secrets (or API key values); any may match
  };

  explicit HubSpotProvider(Options options);
  static std::unique_ptr<HubSpotProvider> create(const sdk::Config& config,
                                                 const std::vector<sdk::Secret>& secrets,
                                                 const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  sdk::Verdict verifyLegacy(const sdk::Request& request, Version version) const;
  sdk::Verdict verifyV3(const sdk::Request& request) const;
  sdk::Verdict verifyApiKey(const sdk::Request& request) const;

  Options options_;
};

// The v3 URI: only %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B are decoded (either hex case);
// every other escape (%20, %26, %3D, …) is kept as sent.
std::string decodeV3Uri(std::string_view url);

}  // namespace inlet::auth
