// Explicitly unauthenticated pipelines: every request is accepted. Exists so that "no
// authentication" is a visible, deliberate choice in the config (and logged at start-up)
// rather than the silent result of a missing `auth:` block.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

namespace inlet::auth {

class NoneProvider : public sdk::AuthProvider {
 public:
  struct Options {
    std::string delivery_header;  // optional: header carrying a delivery id
    std::string event_header;     // optional: header carrying the event type
  };

  explicit NoneProvider(Options options);
  static std::unique_ptr<NoneProvider> create(const sdk::Config& config,
                                              const std::vector<sdk::Secret>& secrets,
                                              const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

  static constexpr const char* kWarning =
      "auth provider 'none': this pipeline accepts unauthenticated requests from anyone who can "
      "reach it; restrict it by network (ip allow-list, loopback) or choose a real provider";

 private:
  Options options_;
};

}  // namespace inlet::auth
