#include "rudderstack.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "scheme": {"type": "string", "enum": ["bearer", "basic", "header"], "default": "bearer",
               "description": "Authorization: Bearer <secret>, Authorization: Basic base64(user:password), or a custom header"},
    "header": {"type": "string",
               "description": "scheme header: the custom header set in the destination (e.g. X-Signing-Key)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::RudderStackProvider, "rudderstack", "1.0.0",
                  "RudderStack Webhook destinations: bearer token, Basic auth or a static header",
                  kSchema)
