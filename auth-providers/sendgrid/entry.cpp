#include "sendgrid.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "tolerance": {"type": "string",
      "description": "reject when the signed timestamp is further than this from the receive time, either way (duration; default: no check, as in SendGrid's SDK)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::SendGridProvider, "sendgrid", "1.0.0",
                  "SendGrid Signed Event Webhook: ECDSA P-256/SHA-256 over timestamp + body",
                  kSchema)
