#include "hubspot.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "version": {"type": "string", "enum": ["auto", "v1", "v2", "v3"], "default": "auto",
                "description": "signature version to verify; auto = v3 when X-HubSpot-Signature-v3 is present, else the version named by X-HubSpot-Signature-Version"},
    "tolerance": {"type": "string", "default": "5m",
                  "description": "v3: reject when the X-HubSpot-Request-Timestamp is older than this"},
    "reject_future": {"type": "boolean", "default": false,
                      "description": "v3: also reject timestamps more than `tolerance` in the future (the SDKs do not)"},
    "api_key": {"type": "object", "additionalProperties": false, "required": ["name"],
                "description": "workflow 'Send a webhook' with API-key authentication: the named header or query parameter must equal one of the secrets; no signature is checked",
                "properties": {
                  "name": {"type": "string", "description": "header or query parameter name"},
                  "in": {"type": "string", "enum": ["header", "query"], "default": "header"}
                }}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(
    inlet::auth::HubSpotProvider, "hubspot", "1.0.0",
    "HubSpot webhooks: signatures v1/v2 (SHA-256) and v3 (HMAC-SHA256), or a workflow API key",
    kSchema)
