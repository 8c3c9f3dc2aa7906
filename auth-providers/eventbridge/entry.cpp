#include "eventbridge.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false, "required": ["type"],
  "properties": {
    "type": {"type": "string", "enum": ["basic", "api_key", "oauth"],
             "description": "the Connection's authorization type: BASIC (secrets are user:password), API_KEY (secrets are the key value) or OAUTH_CLIENT_CREDENTIALS (secrets are the accepted access tokens)"},
    "header": {"type": "string",
               "description": "type api_key: the Connection's ApiKeyName (default x-api-key)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::EventBridgeProvider, "eventbridge", "1.0.0",
                  "AWS EventBridge API destinations: Basic, API key header or OAuth bearer token",
                  kSchema)
