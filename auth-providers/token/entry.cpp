#include "token.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "scheme": {"type": "string", "enum": ["bearer", "basic", "header", "query"], "default": "bearer",
               "description": "where the credential is: Authorization: Bearer <secret>, Authorization: Basic base64(user:password), a custom header, or a query parameter"},
    "header": {"type": "string",
               "description": "scheme header: the header whose value must equal a secret (default x-api-key)"},
    "param": {"type": "string",
              "description": "scheme query: the query parameter whose (percent-decoded) value must equal a secret (default token)"},
    "delivery_header": {"type": "string",
                        "description": "optional header whose value becomes the delivery id (dedup key: auto)"},
    "event_header": {"type": "string",
                     "description": "optional header whose value becomes the event type"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::TokenProvider, "token", "1.0.0",
                  "Static credentials: bearer token, HTTP Basic, custom header or query parameter",
                  kSchema)
