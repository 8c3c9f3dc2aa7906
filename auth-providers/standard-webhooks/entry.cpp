#include "standard_webhooks.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "tolerance": {"type": "string", "default": "300s",
                  "description": "accept webhook-timestamp within this duration of the receive time, in both directions"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::StandardWebhooksProvider, "standard-webhooks", "1.0.0",
                  "Standard Webhooks / Svix: webhook-signature v1 (HMAC-SHA256) and v1a (Ed25519)",
                  kSchema)
