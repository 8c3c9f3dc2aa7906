#include "discord.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "tolerance": {"type": "string",
      "description": "reject when X-Signature-Timestamp is further than this from the receive time, either way (duration; default: no check, Discord publishes no window)"},
    "respond_to_ping": {"type": "boolean", "default": true,
      "description": "answer Discord's endpoint checks (interaction PING: {\"type\":1}; webhook-event PING: 204) instead of storing them"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::DiscordProvider, "discord", "1.0.0",
                  "Discord interactions / webhook events: Ed25519 over timestamp + body", kSchema)
