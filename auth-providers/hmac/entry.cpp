#include "hmac.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "header": {"type": "string",
      "description": "header carrying the signature (case-insensitive); or use signature_json"},
    "signature_json": {"type": "string",
      "description": "JSON pointer to the signature inside a JSON body (e.g. /signature/signature)"},
    "algorithm": {"type": "string", "enum": ["sha1", "sha256", "sha512"], "default": "sha256",
      "description": "HMAC digest"},
    "encoding": {"type": "string", "enum": ["hex", "base64", "base64url"], "default": "hex",
      "description": "how the digest is written in the signature"},
    "prefix": {"type": "string",
      "description": "text every signature value starts with, stripped before decoding (e.g. sha256=)"},
    "items": {"type": "object", "additionalProperties": false,
      "description": "the signature header is a list of items (Stripe, PagerDuty, Standard Webhooks)",
      "required": ["separator"],
      "properties": {
        "separator": {"type": "string", "description": "between items: \",\" or \" \""},
        "kv_separator": {"type": "string",
          "description": "between an item's key and value, split at its first occurrence: \"=\" or \",\""},
        "signature_key": {"type": "string",
          "description": "key of the signature items (may repeat: any may match); other keys are ignored"},
        "timestamp_key": {"type": "string", "description": "key of the timestamp item (e.g. t)"}
      }},
    "timestamp_header": {"type": "string", "description": "header carrying the timestamp"},
    "timestamp_json": {"type": "string",
      "description": "JSON pointer to the timestamp inside a JSON body"},
    "timestamp_unit": {"type": "string", "enum": ["s", "ms", "iso8601"], "default": "s",
      "description": "Unix seconds, Unix milliseconds, or an ISO-8601 time with a zone"},
    "tolerance": {"type": "string",
      "description": "maximum age of the timestamp (duration, default 300s when there is a timestamp; 0s disables)"},
    "reject_future": {"type": "boolean", "default": true,
      "description": "also reject timestamps more than tolerance in the future"},
    "message": {"type": "string", "default": "{body}",
      "description": "signed bytes: literal text and {body} {timestamp} {method} {url} {header:NAME} {json:/pointer}; {{ and }} for braces"},
    "key_encoding": {"type": "string", "enum": ["raw", "base64", "hex"], "default": "raw",
      "description": "how each secret is turned into the HMAC key"},
    "key_prefix": {"type": "string",
      "description": "stripped from each secret when present, before decoding (e.g. whsec_)"},
    "delivery_id_header": {"type": "string", "description": "header with the delivery id (dedup)"},
    "event_type_header": {"type": "string", "description": "header with the event type"},
    "delivery_id_json": {"type": "string", "description": "JSON pointer to the delivery id"},
    "event_type_json": {"type": "string", "description": "JSON pointer to the event type"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::HmacProvider, "hmac", "1.0.0",
                  "Declarative HMAC webhook signatures (recipes for any provider)", kSchema)
