// The shipped recipes (recipes/*.yaml) loaded as the host would pass them, against official
// vectors where the provider publishes them, and against digests computed with
// `openssl dgst -hmac` where it does not.
#include "hmac.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>
#include <yaml-cpp/yaml.h>

using inlet::auth::HmacProvider;
using inlet::testing::RequestBuilder;

namespace {

// YAML → JSON the way the config loader hands options to a plugin: the `auth:` block minus the
// host's own keys (provider, secrets).
Poco::Dynamic::Var toJson(const YAML::Node& node) {
  if (node.IsMap()) {
    Poco::JSON::Object::Ptr obj = new Poco::JSON::Object;
    for (const auto& kv : node) obj->set(kv.first.as<std::string>(), toJson(kv.second));
    return obj;
  }
  if (node.IsSequence()) {
    Poco::JSON::Array::Ptr arr = new Poco::JSON::Array;
    for (const auto& item : node) arr->add(toJson(item));
    return arr;
  }
  auto text = node.as<std::string>();
  if (text == "true") return true;
  if (text == "false") return false;
  return text;
}

inlet::sdk::Config recipeConfig(const std::string& name) {
  YAML::Node root =
      YAML::LoadFile(std::string(INLET_PLUGIN_SRC_DIR) + "/recipes/" + name + ".yaml");
  YAML::Node auth = root["auth"];
  EXPECT_EQ(auth["provider"].as<std::string>(), "hmac");
  auto obj = toJson(auth).extract<Poco::JSON::Object::Ptr>();
  obj->remove("provider");
  obj->remove("secrets");
  return inlet::sdk::Config(obj);
}

std::unique_ptr<HmacProvider> recipe(const std::string& name, std::vector<std::string> secrets) {
  std::vector<inlet::sdk::Secret> s;
  for (auto& v : secrets) s.push_back({"s" + std::to_string(s.size()), v});
  return HmacProvider::create(recipeConfig(name), s, inlet::sdk::Host());
}

std::unique_ptr<HmacProvider> inline_(const char* json, std::vector<std::string> secrets) {
  std::vector<inlet::sdk::Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return HmacProvider::create(inlet::sdk::Config::parse(json), s, inlet::sdk::Host());
}

#define EXPECT_ACCEPT(v) \
  EXPECT_EQ((v).verdict, INLET_ACCEPT) << (v).code << ": " << (v).message << " " << (v).detail
::testing::AssertionResult hasCode(const inlet::sdk::Verdict& v, const std::string& code,
                                   int status) {
  if (v.code == code && v.http_status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << v.code << " (" << v.http_status << "): " << v.message << " " << v.detail;
}
#define EXPECT_CODE(v, c, status) EXPECT_TRUE(hasCode((v), c, status))

// ---------------------------------------------------------------- every shipped recipe loads

TEST(Recipes, EveryShippedRecipeLoads) {
  for (const char* name :
       {"github", "stripe", "slack", "shopify", "standard-webhooks", "bitbucket", "linear",
        "pagerduty", "square", "zendesk", "typeform", "intercom", "mailgun"}) {
    EXPECT_NO_THROW(recipe(name, {"whsec_c2VjcmV0"})) << name;
  }
}

// ---------------------------------------------------------------- GitHub (docs + octokit)

TEST(Recipes, GitHubDocsVector) {
  auto p = recipe("github", {"It's a Secret to Everybody"});
  RequestBuilder r;
  r.body("Hello, World!")
      .header("X-Hub-Signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
      .header("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
      .header("X-GitHub-Event", "push");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(v.event_type, "push");

  RequestBuilder o;
  o.body(R"({"foo":"bar"})")
      .header("x-hub-signature-256",
              "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3");
  EXPECT_ACCEPT(recipe("github", {"mysecret"})->verify(o.request()));

  r.body("Hello, World?");
  auto bad = p->verify(r.request());
  EXPECT_CODE(bad, "signature_mismatch", 401);
  EXPECT_EQ(bad.detail.find("Secret to Everybody"), std::string::npos);
  EXPECT_NE(bad.detail.find("expected sha256="), std::string::npos);
}

// ---------------------------------------------------------------- Stripe

const char kStripeBody[] =
    R"({"id":"evt_test_webhook","object":"event","type":"charge.succeeded"})";
// openssl: printf '1700000000.<body>' | openssl dgst -sha256 -hmac whsec_test_secret
const char kStripeSig[] = "256315adcbec6e27c4db46fd5ce257278fe155645695bfaea6ff0e9ae45e7721";

RequestBuilder stripeRequest(std::string header, int64_t now = 1700000000) {
  RequestBuilder r;
  r.body(kStripeBody).header("Stripe-Signature", std::move(header)).receivedSeconds(now);
  return r;
}

TEST(Recipes, StripeAcceptsAnyV1AndIgnoresOtherSchemes) {
  auto p = recipe("stripe", {"whsec_test_secret"});
  std::string good = std::string("v1=") + kStripeSig;
  auto v = p->verify(stripeRequest("t=1700000000," + good).request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "evt_test_webhook");
  EXPECT_EQ(v.event_type, "charge.succeeded");
  EXPECT_EQ(v.signed_timestamp_ms, 1700000000000);
  // Several v1 (Stripe signs with every active secret); v0 and unknown schemes ignored.
  EXPECT_ACCEPT(p->verify(
      stripeRequest("t=1700000000,v1=" + std::string(64, '0') + "," + good + ",v0=abc,x=1")
          .request()));
  // A correct digest presented under v0 is not accepted (no downgrade).
  EXPECT_CODE(p->verify(stripeRequest(std::string("t=1700000000,v0=") + kStripeSig).request()),
              "malformed_signature", 400);
  // Signed timestamp is part of the message: changing t breaks the signature.
  EXPECT_CODE(p->verify(stripeRequest("t=1700000001," + good, 1700000001).request()),
              "signature_mismatch", 401);
}

TEST(Recipes, StripeToleranceIsAgeOnly) {
  auto p = recipe("stripe", {"whsec_test_secret"});
  std::string h = std::string("t=1700000000,v1=") + kStripeSig;
  EXPECT_ACCEPT(p->verify(stripeRequest(h, 1700000300).request()));  // exactly 300 s: allowed
  EXPECT_CODE(p->verify(stripeRequest(h, 1700000301).request()), "timestamp_out_of_tolerance", 401);
  EXPECT_ACCEPT(p->verify(stripeRequest(h, 1690000000).request()));  // future: SDKs accept
}

TEST(Recipes, StripeMalformedHeaders) {
  auto p = recipe("stripe", {"whsec_test_secret"});
  std::string sig = std::string("v1=") + kStripeSig;
  for (std::string bad : {std::string(""), sig, std::string("t=1700000000"),
                          "t=1700000000,t=1700000000," + sig, "t=17e8," + sig, "t=," + sig,
                          std::string("t=1700000000,v1=zz"), std::string("t=1700000000,v1=abc")}) {
    EXPECT_CODE(p->verify(stripeRequest(bad).request()), "malformed_signature", 400) << bad;
  }
  RequestBuilder none;
  none.body(kStripeBody);
  EXPECT_CODE(p->verify(none.request()), "missing_signature", 400);
}

// ---------------------------------------------------------------- Slack

const char kSlackBody[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008855"
    "54%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b"
    "6703c";
// Slack docs: ...→ v0=a2114d57…b503 (full digest recomputed with openssl, same prefix/suffix).
const char kSlackSig[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

TEST(Recipes, SlackDocsVectorAndSymmetricWindow) {
  auto p = recipe("slack", {"8f742231b10e8888abcd99yyyzzz85a5"});
  auto at = [&](int64_t now, std::string ts = "1531420618") {
    RequestBuilder r;
    r.body(kSlackBody)
        .header("X-Slack-Signature", kSlackSig)
        .header("X-Slack-Request-Timestamp", ts)
        .receivedSeconds(now);
    return p->verify(r.request());
  };
  EXPECT_ACCEPT(at(1531420618));
  EXPECT_ACCEPT(at(1531420618 + 300));
  EXPECT_ACCEPT(at(1531420618 - 300));
  EXPECT_CODE(at(1531420618 + 301), "timestamp_out_of_tolerance", 401);
  EXPECT_CODE(at(1531420618 - 301), "timestamp_out_of_tolerance", 401);
  EXPECT_CODE(at(1531420619, "1531420619"), "signature_mismatch", 401);
  EXPECT_CODE(at(1531420618, "1531420618.0"), "malformed_signature", 400);

  RequestBuilder no_ts;
  no_ts.body(kSlackBody).header("X-Slack-Signature", kSlackSig).receivedSeconds(1531420618);
  EXPECT_CODE(p->verify(no_ts.request()), "missing_signature", 400);
  RequestBuilder two_ts;
  two_ts.body(kSlackBody)
      .header("X-Slack-Signature", kSlackSig)
      .header("X-Slack-Request-Timestamp", "1531420618")
      .header("X-Slack-Request-Timestamp", "1531420618")
      .receivedSeconds(1531420618);
  EXPECT_CODE(p->verify(two_ts.request()), "malformed_signature", 400);
}

// ---------------------------------------------------------------- Shopify

TEST(Recipes, ShopifyVectorAndRotation) {
  auto p = recipe("shopify", {"new-secret", "test_secret_key"});
  RequestBuilder r;
  r.body(R"({"foo": "bar"})")
      .header("X-Shopify-Hmac-Sha256", "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=")
      .header("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
      .header("X-Shopify-Topic", "orders/create");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
  EXPECT_EQ(v.event_type, "orders/create");

  auto old_only = recipe("shopify", {"other"});
  EXPECT_CODE(old_only->verify(r.request()), "signature_mismatch", 401);

  // Hex of the right digest is not the right encoding.
  RequestBuilder hex;
  hex.body(R"({"foo": "bar"})")
      .header("X-Shopify-Hmac-Sha256", inlet::sdk::crypto::toHex(*inlet::sdk::crypto::fromBase64(
                                           "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=")));
  EXPECT_CODE(p->verify(hex.request()), "malformed_signature", 400);
}

// ---------------------------------------------------------------- Standard Webhooks

RequestBuilder swRequest(std::string signature, int64_t now = 1614265330,
                         std::string id = "msg_p5jXN8AQM9LWM0D4loKWxJek") {
  RequestBuilder r;
  r.body(R"({"test": 2432232314})")
      .header("webhook-id", std::move(id))
      .header("webhook-timestamp", "1614265330")
      .header("webhook-signature", std::move(signature))
      .receivedSeconds(now);
  return r;
}

TEST(Recipes, StandardWebhooksSpecVector) {
  auto p = recipe("standard-webhooks", {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
  const std::string good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  auto v = p->verify(swRequest(good).request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
  // Space-separated list; other versions (v1a = Ed25519, v2) skipped; any v1 may match.
  EXPECT_ACCEPT(p->verify(swRequest("v1a,AAAA v1,Zm9v " + good + " v2,xyz").request()));
  // The key without its prefix works too (the libraries accept both).
  EXPECT_ACCEPT(recipe("standard-webhooks", {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
                    ->verify(swRequest(good).request()));
  // webhook-id is signed.
  EXPECT_CODE(p->verify(swRequest(good, 1614265330, "msg_other").request()), "signature_mismatch",
              401);
  // Window: ±300 s.
  EXPECT_ACCEPT(p->verify(swRequest(good, 1614265330 + 300).request()));
  EXPECT_CODE(p->verify(swRequest(good, 1614265330 + 301).request()), "timestamp_out_of_tolerance",
              401);
  EXPECT_CODE(p->verify(swRequest(good, 1614265330 - 301).request()), "timestamp_out_of_tolerance",
              401);
  // Only a v1a entry: nothing to check against.
  EXPECT_CODE(p->verify(swRequest("v1a,AAAA").request()), "malformed_signature", 400);
  // Missing webhook-id: the signed message cannot be built.
  RequestBuilder no_id;
  no_id.body(R"({"test": 2432232314})")
      .header("webhook-timestamp", "1614265330")
      .header("webhook-signature", good)
      .receivedSeconds(1614265330);
  EXPECT_CODE(p->verify(no_id.request()), "missing_signature", 400);
}

// ---------------------------------------------------------------- Square (official SDK tests)

const char kSquareBody[] =
    R"({"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}})";

TEST(Recipes, SquareSdkVectors) {
  auto p = recipe("square", {"Ibxx_5AKakO-3qeNVR61Dw"});
  RequestBuilder r;
  r.url("https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9")
      .body(kSquareBody)
      .header("x-square-hmacsha256-signature", "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "ac3ac95b-f97d-458c-a6e6-18981597e05f");
  EXPECT_EQ(v.event_type, "webhooks.test_notification");

  RequestBuilder escaped;
  escaped.url("https://webhook.site/webhooks")
      .body(R"({"data":{"type":"webhooks","id":">id<"}})")
      .header("x-square-hmacsha256-signature", "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=");
  EXPECT_ACCEPT(recipe("square", {"signature-key"})->verify(escaped.request()));

  // URL mismatch, wrong key, wrong (SHA-1 sized) signature: all as in the SDK tests.
  r.url("https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9");
  EXPECT_CODE(p->verify(r.request()), "signature_mismatch", 401);
  r.url("https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9");
  EXPECT_CODE(recipe("square", {"MCmhFRxGX82xMwg5FsaoQA"})->verify(r.request()),
              "signature_mismatch", 401);
  RequestBuilder sha1_sized;
  sha1_sized.url("https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9")
      .body(kSquareBody)
      .header("x-square-hmacsha256-signature", "1z2n3DEJJiUPKcPzQo1ftvbxGdw=");
  EXPECT_CODE(p->verify(sha1_sized.request()), "malformed_signature", 400);
}

// ---------------------------------------------------------------- PagerDuty (go-pagerduty)

const char kPagerDutyBody[] =
    R"({"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}})";
const char kPagerDutySecret[] = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK";

TEST(Recipes, PagerDutySdkVectors) {
  auto p = recipe("pagerduty", {kPagerDutySecret});
  auto with = [&](std::string sig) {
    RequestBuilder r;
    r.body(kPagerDutyBody).header("X-PagerDuty-Signature", std::move(sig));
    return p->verify(r.request());
  };
  const std::string good = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd";
  auto v = with(good);
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "01BWDWL3NYY7LUFPZCC28QUCMK");
  EXPECT_EQ(v.event_type, "incident.priority_updated");
  EXPECT_CODE(with("v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"),
              "signature_mismatch", 401);
  // Rotation: one entry per active secret; undecodable and non-v1 entries skipped.
  EXPECT_ACCEPT(
      with("v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5," + good));
  EXPECT_ACCEPT(with("v2=abc,v1=nothex, " + good));
  EXPECT_CODE(with(""), "malformed_signature", 400);
  EXPECT_CODE(with("v2=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"),
              "malformed_signature", 400);
}

// ---------------------------------------------------------------- no published digests:
// expected values below were computed with `openssl dgst -<alg> -hmac <secret>`.

TEST(Recipes, Bitbucket) {
  auto p = recipe("bitbucket", {"bb-secret"});
  RequestBuilder r;
  r.body(R"({"push":{}})")
      .header("X-Hub-Signature",
              "sha256=47f645e230992db16f3826c6c4fbf91d3fc9b2a87dd876f43be3b588dea4ee4e")
      .header("X-Request-UUID", "0a1b")
      .header("X-Event-Key", "repo:push");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "0a1b");
  EXPECT_EQ(v.event_type, "repo:push");
  // GitHub's SHA-1 form under the same header name is refused.
  RequestBuilder sha1;
  sha1.body(R"({"push":{}})")
      .header("X-Hub-Signature", "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8");
  EXPECT_CODE(p->verify(sha1.request()), "malformed_signature", 400);
}

TEST(Recipes, LinearUsesSignedBodyTimestamp) {
  auto p = recipe("linear", {"lin_wh_secret"});
  auto at = [&](int64_t now_ms) {
    RequestBuilder r;
    r.body(R"({"action":"create","type":"Issue","webhookTimestamp":1700000000000})")
        .header("linear-signature",
                "91e919dc0fd99df1cae12efef1ca08b082cfa523f101b572ec14ed98863fdf35")
        .header("linear-delivery", "d-1")
        .header("linear-event", "Issue")
        .receivedMs(now_ms);
    return p->verify(r.request());
  };
  auto v = at(1700000000000);
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.signed_timestamp_ms, 1700000000000);
  EXPECT_EQ(v.event_type, "Issue");
  EXPECT_ACCEPT(at(1700000060000));
  EXPECT_CODE(at(1700000060001), "timestamp_out_of_tolerance", 401);
  EXPECT_CODE(at(1699999939999), "timestamp_out_of_tolerance", 401);

  RequestBuilder no_ts;  // signature right for this body, but no timestamp in it
  no_ts.body("{}").header("linear-signature",
                          inlet::sdk::crypto::toHex(inlet::sdk::crypto::hmac(
                              inlet::sdk::crypto::Digest::Sha256, "lin_wh_secret", "{}")));
  EXPECT_CODE(p->verify(no_ts.request()), "missing_signature", 400);
}

TEST(Recipes, ZendeskIso8601Timestamp) {
  auto p = recipe("zendesk", {"dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="});
  auto at = [&](int64_t now, std::string ts = "2021-03-25T05:09:27Z") {
    RequestBuilder r;
    r.body(R"({"type":"zen:event-type:ticket.created"})")
        .header("X-Zendesk-Webhook-Signature", "69EIqFt9nbXumm7w0tvopVmD8Bclei89GEk+Qcfyr4Y=")
        .header("X-Zendesk-Webhook-Signature-Timestamp", ts)
        .receivedSeconds(now);
    return p->verify(r.request());
  };
  auto v = at(1616648967);
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.signed_timestamp_ms, 1616648967000);
  EXPECT_CODE(at(1616648967 + 301), "timestamp_out_of_tolerance", 401);
  EXPECT_CODE(at(1616648967, "2021-03-25T05:09:27"), "malformed_signature", 400);
  EXPECT_CODE(at(1616648967, "2021-03-25T05:09:28Z"), "signature_mismatch", 401);
}

TEST(Recipes, TypeformBase64WithPrefix) {
  auto p = recipe("typeform", {"tf-secret"});
  RequestBuilder r;
  r.body(R"({"event_id":"01H","event_type":"form_response"})")
      .header("Typeform-Signature", "sha256=+ekmj49BHLuU1TEyotE1gX/bI1nb+/gvzZB1mVEDgP4=");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "01H");
  EXPECT_EQ(v.event_type, "form_response");
  RequestBuilder no_prefix;
  no_prefix.body(R"({"event_id":"01H","event_type":"form_response"})")
      .header("Typeform-Signature", "+ekmj49BHLuU1TEyotE1gX/bI1nb+/gvzZB1mVEDgP4=");
  EXPECT_CODE(p->verify(no_prefix.request()), "malformed_signature", 400);
}

TEST(Recipes, IntercomSha1) {
  auto p = recipe("intercom", {"ic-secret"});
  RequestBuilder r;
  r.body(R"({"type":"notification_event","id":"notif_1","topic":"ping"})")
      .header("X-Hub-Signature", "sha1=9617c028ef60e09e1d51f0b2cd06de0516534759");
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "notif_1");
  EXPECT_EQ(v.event_type, "ping");
}

std::string mailgunBody(std::string event, std::string token = "tok123abc") {
  return R"({"signature":{"timestamp":"1700000000","token":")" + token +
         R"(","signature":"7ee9a697ef0c6f2eef8060e66276852572833d74ff64e9a6382ad2b69c99614d"},)" +
         R"("event-data":{"event":")" + event + R"("}})";
}

TEST(Recipes, MailgunSignsTimestampAndTokenOnly) {
  auto p = recipe("mailgun", {"key-mailgun"});
  auto verify = [&](std::string body, int64_t now = 1700000000) {
    RequestBuilder r;
    r.body(std::move(body)).receivedSeconds(now);
    return p->verify(r.request());
  };
  auto v = verify(mailgunBody("delivered"));
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "tok123abc");
  EXPECT_EQ(v.event_type, "delivered");
  // The documented caveat: event-data is not signed, so changing it still verifies.
  EXPECT_ACCEPT(verify(mailgunBody("failed")));
  EXPECT_CODE(verify(mailgunBody("delivered", "tok123abd")), "signature_mismatch", 401);
  EXPECT_CODE(verify(mailgunBody("delivered"), 1700000301), "timestamp_out_of_tolerance", 401);
  EXPECT_CODE(verify("not json"), "malformed_signature", 400);
  EXPECT_CODE(verify(R"({"signature":{"timestamp":"1700000000","token":"t"}})"),
              "missing_signature", 400);
  EXPECT_CODE(
      verify(
          R"({"signature":{"token":"t","signature":"7ee9a697ef0c6f2eef8060e66276852572833d74ff64e9a6382ad2b69c99614d"}})"),
      "missing_signature", 400);
  EXPECT_CODE(verify(std::string(200, '[')), "malformed_signature", 400);  // depth-limited
}

// ---------------------------------------------------------------- language features

TEST(Language, MethodUrlHeaderAndLiteralBraces) {
  auto p = inline_(R"({"header":"x-sig","encoding":"base64url","algorithm":"sha512",
      "message":"{{{method}}} {url}|{header:X-Account}|{body}"})",
                   {"k"});
  RequestBuilder r;
  r.method("PUT").url("https://h.example/a?b=c").header("x-account", "acct").body("B");
  std::string expected =
      inlet::sdk::crypto::toBase64(inlet::sdk::crypto::hmac(inlet::sdk::crypto::Digest::Sha512, "k",
                                                            "{PUT} https://h.example/a?b=c|acct|B"),
                                   true);
  r.header("X-Sig", expected);
  EXPECT_ACCEPT(p->verify(r.request()));
}

TEST(Language, HexKeyAndSpaceSeparatedPlainList) {
  auto p =
      inline_(R"({"header":"sigs","items":{"separator":" "},"key_encoding":"hex"})", {"6b6579"});
  std::string good = inlet::sdk::crypto::toHex(
      inlet::sdk::crypto::hmac(inlet::sdk::crypto::Digest::Sha256, "key", "body"));
  RequestBuilder r;
  r.body("body").header("sigs", std::string(64, 'a') + " " + good);
  EXPECT_ACCEPT(p->verify(r.request()));
}

TEST(Language, HostileHeaders) {
  auto p = inline_(
      R"({"header":"x-sig","items":{"separator":",","kv_separator":"=","signature_key":"v1"}})",
      {"k"});
  auto with = [&](std::string value) {
    RequestBuilder r;
    r.body("b").header("x-sig", std::move(value));
    return p->verify(r.request());
  };
  std::string many;
  for (int i = 0; i < 40; ++i) many += "v1=" + std::string(64, 'a') + ",";
  EXPECT_CODE(with(many), "malformed_signature", 400);
  EXPECT_CODE(with(std::string(9000, 'a')), "malformed_signature", 400);
  EXPECT_CODE(with("v1=\xc3\xa9" + std::string(62, 'a')), "malformed_signature", 400);
  EXPECT_CODE(with(std::string("v1=") + std::string(63, 'a') + "\n"), "malformed_signature", 400);
  EXPECT_CODE(with("v1=" + std::string(64, 'a')), "signature_mismatch", 401);
  RequestBuilder two;
  two.body("b")
      .header("x-sig", "v1=" + std::string(64, 'a'))
      .header("x-sig", "v1=" + std::string(64, 'a'));
  EXPECT_CODE(p->verify(two.request()), "malformed_signature", 400);
}

TEST(Language, FutureTimestampsWhenAllowed) {
  auto p = inline_(R"({"header":"s","timestamp_header":"t","message":"{timestamp}{body}",
      "tolerance":"10s","reject_future":false})",
                   {"k"});
  RequestBuilder r;
  r.body("b")
      .header("t", "2000")
      .header("s", inlet::sdk::crypto::toHex(inlet::sdk::crypto::hmac(
                       inlet::sdk::crypto::Digest::Sha256, "k", "2000", "b")))
      .receivedSeconds(1000);
  EXPECT_ACCEPT(p->verify(r.request()));
  r.receivedSeconds(2011);
  EXPECT_CODE(p->verify(r.request()), "timestamp_out_of_tolerance", 401);
}

TEST(Language, NonJsonBodyOnlyLosesTheExtractedFields) {
  // delivery_id_json / event_type_json are read after verification; a body that is not JSON
  // is still accepted when nothing signed comes from it.
  auto p = inline_(R"({"header":"s","delivery_id_json":"/id","event_type_json":"/type"})", {"k"});
  RequestBuilder r;
  r.body("a=1&b=2").header("s", inlet::sdk::crypto::toHex(inlet::sdk::crypto::hmac(
                                    inlet::sdk::crypto::Digest::Sha256, "k", "a=1&b=2")));
  auto v = p->verify(r.request());
  EXPECT_ACCEPT(v);
  EXPECT_EQ(v.delivery_id, "");
  EXPECT_EQ(v.event_type, "");
}

TEST(Language, CreateRefusesBadSecretsAndNoSecrets) {
  EXPECT_THROW(inline_(R"({"header":"s"})", {}), std::invalid_argument);
  EXPECT_THROW(inline_(R"({"header":"s","key_encoding":"base64"})", {"not base64!"}),
               std::invalid_argument);
}

}  // namespace
