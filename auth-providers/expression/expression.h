// Generic auth provider: accepts a request when a RisingWave-compatible validation expression
// (`secure_compare(headers->>'x-hub-signature-256', 'sha256=' || encode(hmac(test_secret, data,
// 'sha256'), 'hex'))`) is true. The language is described in README.md and expr_lang.h.
#pragma once

#include <inlet/sdk.h>

#include <memory>
#include <string>
#include <vector>

#include "expr_lang.h"

namespace inlet::auth {

class ExpressionProvider : public sdk::AuthProvider {
 public:
  struct Options {
    std::string expression;
    std::string body_name = "data";  // the raw body's name; `payload` always works too
    std::string delivery_id_header;  // optional: header copied into the verdict's delivery id
    std::string event_type_header;   // optional: header copied into the verdict's event type
  };

  // Compiles and type-checks the expression and binds the secrets. Throws std::exception with an
  // "expression:LINE:COL: …" message on any error. `host` may be null (tests).
  ExpressionProvider(Options options, const std::vector<sdk::Secret>& secrets,
                     const sdk::Host* host = nullptr);
  static std::unique_ptr<ExpressionProvider> create(const sdk::Config& config,
                                                    const std::vector<sdk::Secret>& secrets,
                                                    const sdk::Host& host);
  sdk::Verdict verify(const sdk::Request& request) const override;

  // How many secret bindings are tried per request (rotation).
  size_t bindingCount() const { return bindings_.size(); }

 private:
  Options options_;
  std::unique_ptr<expr::Program> program_;
  std::vector<expr::Bound> bindings_;
  std::vector<std::string> labels_;  // which secret each binding uses (for detail only)
};

}  // namespace inlet::auth
