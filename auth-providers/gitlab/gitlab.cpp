#include "gitlab.h"

#include <stdexcept>

namespace inlet::auth {

GitLabProvider::GitLabProvider(const std::vector<std::string>& secrets)
    : matcher_(CredentialScheme::Header, "x-gitlab-token", secrets) {}

std::unique_ptr<GitLabProvider> GitLabProvider::create(const sdk::Config&,
                                                       const std::vector<sdk::Secret>& secrets,
                                                       const sdk::Host&) {
  std::vector<std::string> values;
  for (const auto& s : secrets) values.push_back(s.value);
  try {
    return std::make_unique<GitLabProvider>(values);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("gitlab: ") + e.what());
  }
}

sdk::Verdict GitLabProvider::verify(const sdk::Request& request) const {
  if (auto rejection = matcher_.check(request)) return *rejection;
  // Delivery id for dedup: Idempotency-Key (GitLab 17.4+, gitlab-org/gitlab!160952) is the
  // header GitLab keeps identical across retries of one event, which is exactly a dedup key.
  // X-Gitlab-Event-UUID is a recursion-detection id: webhooks triggered by an earlier webhook
  // share it, so it could merge distinct events; it is only the fallback for older GitLab.
  std::string_view id = request.header("idempotency-key").value_or("");
  if (id.empty()) id = request.header("x-gitlab-event-uuid").value_or("");
  return sdk::Verdict::accept(std::string(id),
                              std::string(request.header("x-gitlab-event").value_or("")));
}

}  // namespace inlet::auth
