// Twilio webhooks: X-Twilio-Signature = base64(HMAC-SHA1(AuthToken, URL + sorted form params)).
// Sources: twilio/twilio-python twilio/request_validator.py and tests/unit/
// test_request_validator.py; twilio-node webhooks;
// twilio.com/docs/usage/webhooks/webhooks-security.
//  - Form bodies: the full URL Twilio requested, then every decoded parameter as name + value,
//    sorted by name, then value (byte order), no delimiters.
//  - JSON bodies: the URL carries ?bodySHA256=<hex sha256(body)>; the signature covers that
//    URL as is (query included, no parameters appended) and the body must hash to it.
//  - Ports: Twilio is inconsistent, so the SDK accepts the URL with the port stripped or with
//    the scheme's default port added.
//  - X-Twilio-Webhooks-Signature-Settings: algorithm=HMAC_SHA256 switches to HMAC-SHA256 keyed
//    with the Webhooks Rule's SharedKey (same signed string).
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inlet::auth {

class TwilioProvider : public sdk::AuthProvider {
 public:
  struct Options {
    std::vector<std::string> secrets;  // Auth Token(s) and/or Webhooks Rule SharedKey(s)
  };

  static constexpr size_t kMaxSignatureHeader = 256;

  explicit TwilioProvider(Options options);
  static std::unique_ptr<TwilioProvider> create(const sdk::Config& config,
                                                const std::vector<sdk::Secret>& secrets,
                                                const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

  // Helpers exposed for tests.
  using Params = std::vector<std::pair<std::string, std::string>>;
  // application/x-www-form-urlencoded ('+' is a space); nullopt on a bad %-escape.
  static std::optional<Params> parseForm(std::string_view body);
  // The URL with the port removed and with the port present (explicit, or the scheme's default).
  static std::vector<std::string> urlVariants(std::string_view url);
  // URL + name + value … over params sorted by name then value.
  static std::string signedString(std::string_view url, Params params);

 private:
  Options options_;
};

}  // namespace inlet::auth
