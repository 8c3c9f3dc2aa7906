#include "slack.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "tolerance": {"type": "string", "default": "300s",
                  "description": "reject when X-Slack-Request-Timestamp is further than this from now, in either direction (Slack: 5 minutes)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(
    inlet::auth::SlackProvider, "slack", "1.0.0",
    "Slack request signing: X-Slack-Signature v0 (HMAC-SHA256), ±300 s, url_verification", kSchema)
