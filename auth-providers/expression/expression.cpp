#include "expression.h"

#include <algorithm>
#include <stdexcept>

namespace inlet::auth {

using sdk::Verdict;

ExpressionProvider::ExpressionProvider(Options options, const std::vector<sdk::Secret>& secrets,
                                       const sdk::Host* host)
    : options_(std::move(options)) {
  if (options_.expression.find_first_not_of(" \t\r\n") == std::string::npos)
    throw std::invalid_argument("expression: the option 'expression' is empty");
  expr::Environment env;
  env.body_name = options_.body_name.empty() ? "data" : options_.body_name;
  for (const auto& s : secrets) env.secret_names.push_back(s.name);
  program_ = expr::Program::compile(options_.expression, env);

  const auto& used = program_->secretNames();
  auto valueOf = [&](const std::string& name) -> const std::string& {
    for (const auto& s : secrets)
      if (s.name == name) return s.value;
    throw std::invalid_argument("internal error: secret '" + name + "' is not bound");
  };
  if (used.size() == 1) {
    // Rotation: the one secret the expression names stands for each bound secret in turn.
    for (const auto& s : secrets) {
      bindings_.push_back(program_->bind({s.value}));
      labels_.push_back(s.name);
    }
  } else {
    std::vector<std::string> values;
    for (const auto& name : used) values.push_back(valueOf(name));
    bindings_.push_back(program_->bind(std::move(values)));
    labels_.push_back(used.empty() ? std::string() : used.front());
    if (host && !secrets.empty()) {
      for (const auto& s : secrets)
        if (std::find(used.begin(), used.end(), s.name) == used.end())
          host->warn("expression: secret '" + s.name +
                     "' is bound to the pipeline but the expression does not use it");
    }
  }
}

std::unique_ptr<ExpressionProvider> ExpressionProvider::create(
    const sdk::Config& config, const std::vector<sdk::Secret>& secrets, const sdk::Host& host) {
  Options o;
  o.expression = config.getString("expression");
  o.body_name = config.getString("body_name", "data");
  o.delivery_id_header = config.getString("delivery_id_header");
  o.event_type_header = config.getString("event_type_header");
  for (auto* h : {&o.delivery_id_header, &o.event_type_header})
    for (auto& c : *h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::make_unique<ExpressionProvider>(std::move(o), secrets, &host);
}

Verdict ExpressionProvider::verify(const sdk::Request& request) const {
  const expr::EvalResult* first_false = nullptr;
  size_t false_index = 0;
  std::vector<expr::EvalResult> results;
  results.reserve(bindings_.size());
  for (size_t i = 0; i < bindings_.size(); ++i) {
    results.push_back(bindings_[i].evaluate(request));
    if (results.back().outcome == expr::Outcome::True) {
      auto header = [&](const std::string& name) {
        if (name.empty()) return std::string();
        return std::string(request.header(name).value_or(""));
      };
      return Verdict::accept(header(options_.delivery_id_header),
                             header(options_.event_type_header));
    }
  }
  for (size_t i = 0; i < results.size() && !first_false; ++i)
    if (results[i].outcome == expr::Outcome::False) first_false = &results[i], false_index = i;
  if (first_false) {
    std::string detail = first_false->detail;
    if (!detail.empty() && bindings_.size() > 1)
      detail = "with secret " + labels_[false_index] + ": " + detail;
    return Verdict::reject(401, "signature_mismatch", "the validation expression returned false",
                           detail);
  }
  for (const auto& r : results)
    if (r.outcome == expr::Outcome::Null) return Verdict::reject(400, "validation_null", r.message);
  return Verdict::reject(400, "invalid_input", results.front().message);
}

}  // namespace inlet::auth
