#include "shopify.h"

#include <inlet/crypto.h>

namespace inlet::auth {

using sdk::Verdict;
namespace crypto = sdk::crypto;

namespace {

constexpr std::string_view kHeader = "x-shopify-hmac-sha256";
// base64 of a 32-byte digest: 43 characters, plus one '=' when padded.
constexpr size_t kMaxEncoded = 44;

// shopify-app-js validate(): a delivery missing any of these fails with MissingHeaders.
constexpr std::string_view kRequiredHeaders[] = {"x-shopify-topic", "x-shopify-shop-domain",
                                                 "x-shopify-api-version", "x-shopify-webhook-id"};

std::string headerOr(const sdk::Request& request, std::string_view name) {
  return std::string(request.header(name).value_or(""));
}

}  // namespace

ShopifyProvider::ShopifyProvider(Options options) : options_(std::move(options)) {}

std::unique_ptr<ShopifyProvider> ShopifyProvider::create(const sdk::Config& config,
                                                         const std::vector<sdk::Secret>& secrets,
                                                         const sdk::Host&) {
  Options o;
  o.require_headers = config.getBool("require_headers", false);
  for (const auto& s : secrets) {
    // An empty HMAC key is a key everybody knows.
    if (s.value.empty()) throw std::invalid_argument("secret '" + s.name + "' is empty");
    o.secrets.push_back(s.value);
  }
  if (o.secrets.empty()) throw std::invalid_argument("shopify needs at least one secret");
  return std::make_unique<ShopifyProvider>(std::move(o));
}

Verdict ShopifyProvider::verify(const sdk::Request& request) const {
  auto header = request.header(kHeader);
  if (!header) return Verdict::missingSignature("X-Shopify-Hmac-Sha256");
  if (request.headerCount(kHeader) > 1)
    return Verdict::malformedSignature("header X-Shopify-Hmac-Sha256 appears more than once");
  // The decoded bytes are compared, not the base64 text, so a proxy that drops the padding does
  // not break verification. Anything that is not base64 of exactly 32 bytes (hex included) is
  // refused here.
  std::optional<std::string> received;
  if (header->size() <= kMaxEncoded) received = crypto::fromBase64(*header);
  if (!received || received->size() != 32)
    return Verdict::malformedSignature(
        "expected the base64 of a 32-byte HMAC-SHA256 in X-Shopify-Hmac-Sha256");

  if (options_.require_headers) {
    std::string missing;
    for (std::string_view name : kRequiredHeaders)
      if (!request.header(name) || request.header(name)->empty())
        missing += (missing.empty() ? "" : ", ") + std::string(name);
    if (!missing.empty())
      return Verdict::reject(400, "missing_headers",
                             "missing required Shopify headers: " + missing);
  }

  std::string first_expected;
  for (const auto& secret : options_.secrets) {
    std::string expected = crypto::hmac(crypto::Digest::Sha256, secret, request.body);
    if (crypto::constantTimeEqual(expected, *received)) {
      // Shopify signs only the body: these headers are not authenticated. A replay with an edited
      // webhook id can at worst store an authentic body twice.
      std::string delivery = headerOr(request, "x-shopify-webhook-id");
      if (delivery.empty()) delivery = headerOr(request, "x-shopify-event-id");
      return Verdict::accept(std::move(delivery), headerOr(request, "x-shopify-topic"));
    }
    if (first_expected.empty()) first_expected = crypto::toBase64(expected);
  }
  return Verdict::mismatch("expected " + first_expected + " (first secret), received " +
                           std::string(*header));
}

}  // namespace inlet::auth
