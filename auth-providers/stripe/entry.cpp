#include "stripe.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "tolerance": {"type": "string", "default": "300s",
                  "description": "reject when now - t is greater than this (Stripe's SDK default: 300s); 0s disables the check"},
    "reject_future": {"type": "boolean", "default": false,
                      "description": "also reject timestamps more than `tolerance` in the future (the SDKs do not)"}
  }})json";
}  // namespace

INLET_AUTH_PLUGIN(inlet::auth::StripeProvider, "stripe", "1.0.0",
                  "Stripe webhooks: Stripe-Signature t=…,v1=… (HMAC-SHA256, hex), 300 s tolerance",
                  kSchema)
