#include "twilio.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {}})json";
}  // namespace

INLET_AUTH_PLUGIN(
    inlet::auth::TwilioProvider, "twilio", "1.0.0",
    "Twilio webhooks: X-Twilio-Signature (HMAC-SHA1 over URL + form params; JSON via bodySHA256)",
    kSchema)
