// Static-credential matching shared by the token-style providers (token, eventbridge,
// rudderstack, gitlab): the sender presents a fixed secret in a bearer token, HTTP Basic
// credentials, a custom header or a query parameter, and we compare it with the bound secrets.
//
// Every comparison is over SHA-256 digests with CRYPTO_memcmp: hashing first makes the compare
// fixed-length, so neither the content nor the LENGTH of a configured secret leaks through
// timing (a plain constant-time compare still returns early on a length difference).
#pragma once

#include <inlet/sdk.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::auth {

enum class CredentialScheme {
  Bearer,  // Authorization: Bearer <token>                (RFC 6750 §2.1)
  Basic,   // Authorization: Basic base64(user:password)    (RFC 7617)
  Header,  // <header name>: <token>
  Query,   // ?<param>=<percent-encoded token>
};

// "bearer" | "basic" | "header" | "query"; throws std::invalid_argument otherwise.
CredentialScheme credentialSchemeByName(std::string_view name);
const char* credentialSchemeName(CredentialScheme scheme);

// Immutable after construction; check() is safe to call concurrently.
class CredentialMatcher {
 public:
  // `name` is the header name (Header; compared lower-case) or the query parameter (Query);
  // ignored for Bearer/Basic. Throws std::invalid_argument when there is no secret, a secret is
  // empty, a Basic secret is not `user:password`, or the header/parameter name is unusable.
  CredentialMatcher(CredentialScheme scheme, std::string name,
                    const std::vector<std::string>& secrets);

  // nullopt when the request carries credentials equal to one of the secrets; otherwise the
  // rejection (401 missing_credentials or bad_credentials; never reveals a secret).
  std::optional<sdk::Verdict> check(const sdk::Request& request) const;

  CredentialScheme scheme() const { return scheme_; }
  const std::string& name() const { return name_; }

 private:
  // Extracts the presented credential, or a rejection.
  std::optional<sdk::Verdict> extract(const sdk::Request& request, std::string& out) const;
  bool matches(std::string_view presented) const;

  CredentialScheme scheme_;
  std::string name_;
  std::vector<std::string> digests_;  // SHA-256 of each secret, built once
};

// Helpers, exposed for tests and for the providers that build on the matcher.
namespace credentials {
// Decodes %XX escapes ('+' is kept literally: tokens are often base64, where '+' is data).
// nullopt on a truncated or non-hex escape.
std::optional<std::string> percentDecode(std::string_view text);
// The raw value of the first `name` parameter in a query string, and how many there are.
size_t findQueryParam(std::string_view query, std::string_view name, std::string_view& value);
bool equalsIgnoreCase(std::string_view a, std::string_view b);
}  // namespace credentials

}  // namespace inlet::auth
