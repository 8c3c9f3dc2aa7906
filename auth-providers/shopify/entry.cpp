#include "shopify.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "require_headers": {"type": "boolean", "default": false,
                        "description": "also require X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-API-Version and X-Shopify-Webhook-Id, as the official SDK does (400 missing_headers)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::ShopifyProvider, "shopify", "1.0.0",
                  "Shopify webhooks: X-Shopify-Hmac-Sha256 (HMAC-SHA256, base64)", kSchema)
