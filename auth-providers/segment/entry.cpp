#include "segment.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "batches": {"type": "string", "enum": ["reject", "first_item"], "default": "reject",
                "description": "array (batched) bodies: Segment signs only the first event. reject = 400 batch_not_allowed; first_item = verify the first event and mark only it authenticated"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::SegmentProvider, "segment", "1.0.0",
                  "Segment Webhooks destination: X-Signature (HMAC-SHA1, hex), batch policy",
                  kSchema)
