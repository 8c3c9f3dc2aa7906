#include "gitlab.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {}})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::GitLabProvider, "gitlab", "1.0.0",
                  "GitLab webhooks: X-Gitlab-Token secret token", kSchema)
