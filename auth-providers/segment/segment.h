// Segment Webhooks destination: X-Signature = hex(HMAC-SHA1(shared secret, JSON.stringify(body))).
// Sources: segmentio/segment-docs "Webhooks" destination page; segmentio/action-destinations
// webhook/index.ts (extendRequest) and webhook.test.ts ("supports request signing with batched
// events": a batched body is an array, and only JSON.stringify(body[0]) is signed).
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::auth {

class SegmentProvider : public sdk::AuthProvider {
 public:
  enum class Batches {
    kReject,     // an array body is refused: only its first event would be authentic
    kFirstItem,  // verify element 0 and tell the host that only it is authenticated
  };
  struct Options {
    Batches batches = Batches::kReject;
    std::vector<std::string> secrets;  // any may match (rotation)
  };

  explicit SegmentProvider(Options options);
  static std::unique_ptr<SegmentProvider> create(const sdk::Config& config,
                                                 const std::vector<sdk::Secret>& secrets,
                                                 const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

 private:
  Options options_;
};

// The exact bytes of the first element of a JSON array (surrounding whitespace excluded), found
// by scanning, never by re-serialising: Segment signs JSON.stringify(body[0]), which for the
// compact array Segment sends is byte-for-byte that span. nullopt when `body` is not an array,
// is empty, or is cut short before the element ends.
std::optional<std::string_view> firstArrayElement(std::string_view body);

}  // namespace inlet::auth
