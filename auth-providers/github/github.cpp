#include "github.h"

#include <inlet/crypto.h>
#include <inlet/text.h>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

GitHubProvider::GitHubProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<GitHubProvider> GitHubProvider::create(const sdk::Config& config,
                                                       const std::vector<sdk::Secret>& secrets,
                                                       const sdk::Host&) {
  Options o;
  o.allow_sha1 = config.getBool("allow_sha1", false);
  for (const auto& s : secrets) o.secrets.push_back(s.value);
  if (o.secrets.empty()) throw std::invalid_argument("github needs at least one secret");
  return std::make_unique<GitHubProvider>(std::move(o));
}

namespace {}  // namespace

Verdict GitHubProvider::verify(const sdk::Request& request) const {
  std::string_view header_name = "x-hub-signature-256";
  std::string_view prefix = "sha256=";
  crypto::Digest digest = crypto::Digest::Sha256;
  size_t hex_len = 64;
  if (!request.header(header_name)) {
    if (options_.allow_sha1 && request.header("x-hub-signature")) {
      header_name = "x-hub-signature";
      prefix = "sha1=";
      digest = crypto::Digest::Sha1;
      hex_len = 40;
    } else {
      return Verdict::missingSignature("X-Hub-Signature-256");
    }
  }
  if (request.headerCount(header_name) > 1)
    return Verdict::malformedSignature("header " + std::string(header_name) +
                                       " appears more than once");
  std::string_view received = *request.header(header_name);
  // GitHub sends lower-case hex; octokit compares the ASCII strings, so upper-case hex (which no
  // GitHub delivery ever carries) is refused as malformed rather than silently accepted.
  if (received.size() != prefix.size() + hex_len || received.substr(0, prefix.size()) != prefix ||
      !sdk::text::isLowerHex(received.substr(prefix.size())))
    return Verdict::malformedSignature("expected " + std::string(prefix) + "<" +
                                       std::to_string(hex_len) + " lower-case hex digits> in " +
                                       std::string(header_name));

  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    std::string expected =
        std::string(prefix) + crypto::toHex(crypto::hmac(digest, secret, request.body));
    if (crypto::constantTimeEqual(expected, received)) {
      auto delivery = request.header("x-github-delivery");
      auto event = request.header("x-github-event");
      return Verdict::accept(std::string(delivery.value_or("")), std::string(event.value_or("")));
    }
    if (first_expected.empty()) first_expected = expected;
  }
  return Verdict::mismatch("expected " + first_expected + " (first secret), received " +
                           std::string(received));
}

}  // namespace inlet::auth
