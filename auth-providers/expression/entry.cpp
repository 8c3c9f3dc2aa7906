#include "expression.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "required": ["expression"],
  "properties": {
    "expression": {"type": "string",
      "description": "RisingWave-compatible validation expression, e.g. secure_compare(headers->>'x-hub-signature-256', 'sha256=' || encode(hmac(test_secret, data, 'sha256'), 'hex'))"},
    "body_name": {"type": "string", "default": "data",
      "description": "name of the raw body (bytea) in the expression; 'payload' is always accepted too"},
    "delivery_id_header": {"type": "string",
      "description": "header whose value becomes the event's delivery id (dedup key: auto)"},
    "event_type_header": {"type": "string",
      "description": "header whose value becomes the event type"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(
    inlet::auth::ExpressionProvider, "expression", "1.0.0",
    "RisingWave-compatible validation expressions (secure_compare, hmac, encode, ...)", kSchema)
