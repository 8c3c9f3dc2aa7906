#include "github.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "allow_sha1": {"type": "boolean", "default": false,
                   "description": "also accept the legacy X-Hub-Signature (HMAC-SHA1)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::GitHubProvider, "github", "1.0.0",
                  "GitHub webhooks: X-Hub-Signature-256 (HMAC-SHA256), optional legacy SHA-1",
                  kSchema)
