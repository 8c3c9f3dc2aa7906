#include "none.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "delivery_header": {"type": "string",
                        "description": "optional header whose value becomes the delivery id (dedup key: auto)"},
    "event_header": {"type": "string",
                     "description": "optional header whose value becomes the event type"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::NoneProvider, "none", "1.0.0",
                  "No authentication: accepts every request (logs a warning at start-up)", kSchema)
