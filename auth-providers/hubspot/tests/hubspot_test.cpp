#include "hubspot.h"

#include <gtest/gtest.h>
#include <inlet/crypto.h>
#include <inlet/testing/request.h>

using inlet::auth::decodeV3Uri;
using inlet::auth::HubSpotProvider;
using inlet::testing::RequestBuilder;
namespace crypto = inlet::sdk::crypto;
using Version = HubSpotProvider::Version;

namespace {

constexpr const char* kSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
constexpr const char* kUrl = "https://www.example.com/webhook_uri";
// developers.hubspot.com /docs/faq/v1-request-validation (also hubspot-api-nodejs signature.spec).
constexpr const char* kV1DocsBody =
    R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,)"
    R"("subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,)"
    R"("changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
// hubspot-api-python tests: a Python-repr style body, signed as is.
constexpr const char* kSdkBody = "{'example_field':'example_value'}";

HubSpotProvider::Options options(Version version = Version::kAuto) {
  HubSpotProvider::Options o;
  o.version = version;
  o.secrets = {kSecret};
  return o;
}

HubSpotProvider make(Version version = Version::kAuto) { return HubSpotProvider(options(version)); }

RequestBuilder legacy(std::string version, std::string sig, std::string body,
                      std::string method = "POST", std::string url = kUrl) {
  RequestBuilder r;
  r.method(std::move(method)).url(std::move(url)).body(std::move(body));
  r.header("X-HubSpot-Signature", std::move(sig))
      .header("X-HubSpot-Signature-Version", std::move(version));
  return r;
}

RequestBuilder v3(std::string sig, std::string body, std::string ts, int64_t now_ms,
                  std::string url = kUrl) {
  RequestBuilder r;
  r.method("POST").url(std::move(url)).body(std::move(body)).receivedMs(now_ms);
  r.header("X-HubSpot-Signature-v3", std::move(sig))
      .header("X-HubSpot-Request-Timestamp", std::move(ts));
  return r;
}

// For tests about the URI table, parsing and time (the digest is pinned by the vectors).
std::string signV3(std::string_view uri, std::string_view body, std::string_view ts,
                   std::string_view secret = kSecret) {
  return crypto::toBase64(crypto::hmac(crypto::Digest::Sha256, secret, "POST", uri, body, ts));
}

TEST(HubSpot, V1DocsVector) {
  auto v = make().verify(
      legacy("v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", kV1DocsBody)
          .request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "1");
  EXPECT_EQ(v.event_type, "contact.creation");
  EXPECT_EQ(v.signed_timestamp_ms, 0);
}

TEST(HubSpot, V2DocsVectors) {
  auto get =
      legacy("v2", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", "", "GET");
  EXPECT_EQ(make().verify(get.request()).verdict, INLET_ACCEPT);
  auto post = legacy("v2", "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
                     R"({"example_field":"example_value"})");
  EXPECT_EQ(make().verify(post.request()).verdict, INLET_ACCEPT);
  // The method and the URL are signed.
  auto as_post =
      legacy("v2", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e", "", "POST");
  EXPECT_EQ(make().verify(as_post.request()).code, "signature_mismatch");
  auto other_url = legacy("v2", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
                          "", "GET", "https://www.example.com/webhook_uri?x=1");
  EXPECT_EQ(make().verify(other_url.request()).code, "signature_mismatch");
}

TEST(HubSpot, SdkVectors) {
  EXPECT_EQ(
      make()
          .verify(legacy("v1", "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750",
                         kSdkBody)
                      .request())
          .verdict,
      INLET_ACCEPT);
  EXPECT_EQ(
      make()
          .verify(legacy("v2", "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383",
                         kSdkBody)
                      .request())
          .verdict,
      INLET_ACCEPT);
  auto v = make().verify(
      v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000000", 15000000).request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.signed_timestamp_ms, 15000000);
}

TEST(HubSpot, V1IsAPlainHashNotAnHmac) {
  std::string hmac = crypto::toHex(crypto::hmac(crypto::Digest::Sha256, kSecret, kV1DocsBody));
  EXPECT_EQ(make().verify(legacy("v1", hmac, kV1DocsBody).request()).code, "signature_mismatch");
}

TEST(HubSpot, V3PreferredWhenPresent) {
  // A request carrying both v1 and v3 headers is judged by v3.
  auto r = v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000000", 15000000);
  r.header("X-HubSpot-Signature", std::string(64, '0')).header("X-HubSpot-Signature-Version", "v1");
  EXPECT_EQ(make().verify(r.request()).verdict, INLET_ACCEPT);
}

TEST(HubSpot, ForcedVersion) {
  auto r =
      legacy("v1", "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750", kSdkBody);
  EXPECT_EQ(make(Version::kV1).verify(r.request()).verdict, INLET_ACCEPT);
  // Forced v2 ignores the version header and checks v2.
  EXPECT_EQ(make(Version::kV2).verify(r.request()).code, "signature_mismatch");
  // Forced v3 requires the v3 header.
  EXPECT_EQ(make(Version::kV3).verify(r.request()).code, "missing_signature");
  // Forced v1 without a version header.
  RequestBuilder bare;
  bare.body(kSdkBody).header("X-HubSpot-Signature",
                             "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750");
  EXPECT_EQ(make(Version::kV1).verify(bare.request()).verdict, INLET_ACCEPT);
  EXPECT_EQ(make().verify(bare.request()).code, "malformed_signature");
}

TEST(HubSpot, TamperedWrongSecretRotation) {
  auto r = legacy("v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
                  std::string(kV1DocsBody) + " ");
  auto v = make().verify(r.request());
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);

  auto o = options();
  o.secrets = {"zzzz"};
  auto good =
      legacy("v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", kV1DocsBody);
  EXPECT_EQ(HubSpotProvider(o).verify(good.request()).code, "signature_mismatch");
  o.secrets = {"zzzz", kSecret};
  EXPECT_EQ(HubSpotProvider(o).verify(good.request()).verdict, INLET_ACCEPT);
  auto r3 = v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000000", 15000000);
  EXPECT_EQ(HubSpotProvider(o).verify(r3.request()).verdict, INLET_ACCEPT);
  EXPECT_EQ(
      make()
          .verify(v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000001", 15000001)
                      .request())
          .code,
      "signature_mismatch");
}

TEST(HubSpot, DecodeTable) {
  EXPECT_EQ(decodeV3Uri("https://h/p%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"),
            "https://h/p:/?@!$'()*,;");
  EXPECT_EQ(decodeV3Uri("https://h/p%3a%2f"), "https://h/p:/");
  // Everything else is left escaped; the query's own '?' is not an escape.
  EXPECT_EQ(decodeV3Uri("https://h/p?a=%20%26%3D%25%41&b=%3A"),
            "https://h/p?a=%20%26%3D%25%41&b=:");
  // Broken escapes are copied as they are.
  EXPECT_EQ(decodeV3Uri("https://h/%3"), "https://h/%3");
  EXPECT_EQ(decodeV3Uri("https://h/%zz%"), "https://h/%zz%");
  EXPECT_EQ(decodeV3Uri("%2525"), "%2525");
}

TEST(HubSpot, V3SignsTheDecodedUriAndAcceptsTheVerbatimOne) {
  std::string url = "https://www.example.com/webhook_uri?x=a%3Ab%20c";
  std::string decoded = "https://www.example.com/webhook_uri?x=a:b%20c";
  auto p = make();
  EXPECT_EQ(
      p.verify(v3(signV3(decoded, "{}", "15000000"), "{}", "15000000", 15000000, url).request())
          .verdict,
      INLET_ACCEPT);
  EXPECT_EQ(p.verify(v3(signV3(url, "{}", "15000000"), "{}", "15000000", 15000000, url).request())
                .verdict,
            INLET_ACCEPT);
  // Decoding %20 too would be wrong.
  EXPECT_EQ(p.verify(v3(signV3("https://www.example.com/webhook_uri?x=a:b c", "{}", "15000000"),
                        "{}", "15000000", 15000000, url)
                         .request())
                .code,
            "signature_mismatch");
}

TEST(HubSpot, V3WindowEdges) {
  const std::string sig = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
  auto p = make();
  EXPECT_EQ(p.verify(v3(sig, kSdkBody, "15000000", 15000000 + 300000).request()).verdict,
            INLET_ACCEPT);
  auto v = p.verify(v3(sig, kSdkBody, "15000000", 15000000 + 300001).request());
  EXPECT_EQ(v.code, "timestamp_out_of_tolerance");
  EXPECT_EQ(v.http_status, 401);
  // Future timestamps are accepted by default, as in the SDKs…
  EXPECT_EQ(p.verify(v3(sig, kSdkBody, "15000000", 0).request()).verdict, INLET_ACCEPT);
  // …and refused beyond the tolerance with reject_future.
  auto o = options();
  o.reject_future = true;
  HubSpotProvider strict(o);
  EXPECT_EQ(strict.verify(v3(sig, kSdkBody, "15000000", 15000000 - 300000).request()).verdict,
            INLET_ACCEPT);
  EXPECT_EQ(strict.verify(v3(sig, kSdkBody, "15000000", 15000000 - 300001).request()).code,
            "timestamp_out_of_tolerance");
  // A custom tolerance.
  o.tolerance_ms = 1000;
  EXPECT_EQ(HubSpotProvider(o).verify(v3(sig, kSdkBody, "15000000", 15001000).request()).verdict,
            INLET_ACCEPT);
  EXPECT_EQ(HubSpotProvider(o).verify(v3(sig, kSdkBody, "15000000", 15001001).request()).code,
            "timestamp_out_of_tolerance");
}

TEST(HubSpot, V3HugeButNumericTimestamp) {
  std::string ts = std::to_string(INT64_MAX);
  auto o = options();
  o.reject_future = true;
  EXPECT_EQ(
      HubSpotProvider(o).verify(v3(signV3(kUrl, "{}", ts), "{}", ts, 15000000).request()).code,
      "timestamp_out_of_tolerance");
  EXPECT_EQ(make().verify(v3(signV3(kUrl, "{}", "0"), "{}", "0", 15000000).request()).code,
            "timestamp_out_of_tolerance");
}

TEST(HubSpot, MissingHeaders) {
  RequestBuilder none;
  none.body("{}");
  auto v = make().verify(none.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);

  RequestBuilder no_ts;
  no_ts.body(kSdkBody).header("X-HubSpot-Signature-v3",
                              "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=");
  EXPECT_EQ(make().verify(no_ts.request()).code, "malformed_signature");

  RequestBuilder version_only;
  version_only.body("{}").header("X-HubSpot-Signature-Version", "v1");
  EXPECT_EQ(make().verify(version_only.request()).code, "missing_signature");
}

TEST(HubSpot, MalformedLegacy) {
  const std::string s = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
  for (std::string bad :
       {std::string(""), s.substr(1), s + "0", "sha256=" + s, s + " ",
        std::string("232DB2615F3D666FE21A8EC971AC7B5402D33B9A925784DF3CA654D05F4817DE"),
        s.substr(2) + "\xC3\xA9", std::string(1 << 20, 'a'),
        std::string("Iy2yYV89Zm/iGo7JcaxrVALTO5qSV4TfPKZU0F9IF94=")}) {
    auto v = make().verify(legacy("v1", bad, kV1DocsBody).request());
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 80);
    EXPECT_EQ(v.http_status, 400);
  }
  for (std::string version : {"", "v4", "V1", "v1 ", "v3", "\xC3\xA9"}) {
    auto v = make().verify(legacy(version, s, kV1DocsBody).request());
    EXPECT_EQ(v.code, "malformed_signature") << version;
  }
}

TEST(HubSpot, MalformedV3) {
  const std::string s = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=";
  for (std::string bad :
       {std::string(""), s.substr(0, 43), s + "=", "v3=" + s, s.substr(1) + " ",
        s.substr(2) + "\xC3\xA9",
        std::string("1cf6fbdd152d2a6718a040c00c6d2ce8c9856533589285805b4eebf110e0710c"),
        std::string(44, '='), std::string(1 << 20, 'A')}) {
    auto v = make().verify(v3(bad, kSdkBody, "15000000", 15000000).request());
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 80);
    EXPECT_EQ(v.http_status, 400);
  }
  for (std::string ts :
       {std::string(""), std::string("abc"), std::string("-15000000"), std::string("+15000000"),
        std::string(" 15000000"), std::string("15000000.0"), std::string("99999999999999999999"),
        std::string("\xC3\xA9"), std::string(100000, '9')}) {
    auto v = make().verify(v3(s, kSdkBody, ts, 15000000).request());
    EXPECT_EQ(v.code, "malformed_signature") << ts.substr(0, 40);
  }
}

TEST(HubSpot, DuplicatedHeadersAreMalformed) {
  auto r1 =
      legacy("v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", kV1DocsBody);
  r1.header("X-HubSpot-Signature",
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de");
  EXPECT_EQ(make().verify(r1.request()).code, "malformed_signature");
  auto r2 =
      legacy("v1", "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de", kV1DocsBody);
  r2.header("X-HubSpot-Signature-Version", "v1");
  EXPECT_EQ(make().verify(r2.request()).code, "malformed_signature");
  auto r3 = v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000000", 15000000);
  r3.header("X-HubSpot-Signature-v3", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=");
  EXPECT_EQ(make().verify(r3.request()).code, "malformed_signature");
  auto r4 = v3("HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", kSdkBody, "15000000", 15000000);
  r4.header("X-HubSpot-Request-Timestamp", "15000000");
  EXPECT_EQ(make().verify(r4.request()).code, "malformed_signature");
}

TEST(HubSpot, EventIdsOnlyForOneEventTypeWhenShared) {
  // Two events of one type: the type, but no single delivery id.
  std::string body =
      R"([{"eventId":7,"subscriptionType":"deal.creation"},{"eventId":8,"subscriptionType":"deal.creation"}])";
  auto sig = crypto::toHex(crypto::hash(crypto::Digest::Sha256, kSecret, body));
  auto v = make().verify(legacy("v1", sig, body).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.delivery_id, "");
  EXPECT_EQ(v.event_type, "deal.creation");
  body =
      R"([{"eventId":7,"subscriptionType":"deal.creation"},{"eventId":8,"subscriptionType":"contact.creation"}])";
  sig = crypto::toHex(crypto::hash(crypto::Digest::Sha256, kSecret, body));
  v = make().verify(legacy("v1", sig, body).request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.event_type, "");
}

HubSpotProvider apiKey(std::string name, bool in_query,
                       std::vector<std::string> secrets = {"k3y-value"}) {
  HubSpotProvider::Options o;
  o.api_key = HubSpotProvider::ApiKey{std::move(name), in_query};
  o.secrets = std::move(secrets);
  return HubSpotProvider(o);
}

TEST(HubSpot, ApiKeyInHeader) {
  auto p = apiKey("x-api-key", false, {"old", "k3y-value"});
  RequestBuilder ok;
  ok.body("{}").header("X-Api-Key", "k3y-value");
  EXPECT_EQ(p.verify(ok.request()).verdict, INLET_ACCEPT);

  RequestBuilder wrong;
  wrong.body("{}").header("X-Api-Key", "k3y-valuf");
  auto v = p.verify(wrong.request());
  EXPECT_EQ(v.code, "bad_credentials");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.message.find("k3y"), std::string::npos);

  for (std::string bad : {std::string(""), std::string("k3y-value "), std::string("K3Y-VALUE"),
                          std::string("k3y-value\xC3\xA9"), std::string(1 << 20, 'k')}) {
    RequestBuilder r;
    r.body("{}").header("X-Api-Key", bad);
    EXPECT_EQ(p.verify(r.request()).code, "bad_credentials");
  }

  RequestBuilder missing;
  missing.body("{}");
  v = p.verify(missing.request());
  EXPECT_EQ(v.code, "missing_credentials");
  EXPECT_EQ(v.http_status, 401);

  RequestBuilder twice;
  twice.body("{}").header("X-Api-Key", "k3y-value").header("x-api-key", "k3y-value");
  EXPECT_EQ(p.verify(twice.request()).code, "malformed_signature");

  // Signature headers play no part in API-key mode.
  RequestBuilder signed_only;
  signed_only.body("{}").header("X-HubSpot-Signature-v3",
                                "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=");
  EXPECT_EQ(p.verify(signed_only.request()).code, "missing_credentials");
}

TEST(HubSpot, ApiKeyInQuery) {
  auto p = apiKey("token", true, {"a b+c/="});
  auto run = [&](std::string target) {
    RequestBuilder r;
    r.url("https://inlet.example.com/webhook/hubspot" + target).body("{}");
    return p.verify(r.request());
  };
  EXPECT_EQ(run("?token=a%20b%2Bc%2F%3D").verdict, INLET_ACCEPT);
  EXPECT_EQ(run("?x=1&token=a+b%2bc/=&y").verdict, INLET_ACCEPT);
  EXPECT_EQ(run("?to%6Ben=a+b%2Bc/=").verdict, INLET_ACCEPT);  // an escaped name is the same name
  EXPECT_EQ(run("?token=a+b+c/=").code, "bad_credentials");
  EXPECT_EQ(run("?Token=a+b%2Bc/=").code, "missing_credentials");
  EXPECT_EQ(run("").code, "missing_credentials");
  EXPECT_EQ(run("?").code, "missing_credentials");
  EXPECT_EQ(run("?token").code, "bad_credentials");
  EXPECT_EQ(run("?token=").code, "bad_credentials");
  EXPECT_EQ(run("?token=a+b%2Bc/=&token=a+b%2Bc/=").code, "malformed_signature");
  EXPECT_EQ(run("?token=a+b%2Bc/%").code, "malformed_signature");
  EXPECT_EQ(run("?token=%zz").code, "malformed_signature");
}

TEST(HubSpot, CreateValidatesOptions) {
  using inlet::sdk::Config;
  auto ok = HubSpotProvider::create(Config::parse(R"({"api_key":{"name":"X-Key","in":"header"}})"),
                                    {{"k", "v"}}, {});
  ASSERT_NE(ok, nullptr);
  RequestBuilder r;
  r.body("{}").header("x-key", "v");  // configured mixed-case, matched lower-case
  EXPECT_EQ(ok->verify(r.request()).verdict, INLET_ACCEPT);
  EXPECT_NE(HubSpotProvider::create(
                Config::parse(R"({"version":"v3","tolerance":"10m","reject_future":true})"),
                {{"k", "v"}}, {}),
            nullptr);
  EXPECT_THROW(HubSpotProvider::create(Config(), {}, {}), std::invalid_argument);
  EXPECT_THROW(HubSpotProvider::create(Config(), {{"k", ""}}, {}), std::invalid_argument);
  EXPECT_THROW(HubSpotProvider::create(Config::parse(R"({"version":"v4"})"), {{"k", "v"}}, {}),
               std::invalid_argument);
  EXPECT_THROW(
      HubSpotProvider::create(Config::parse(R"({"api_key":{"name":""}})"), {{"k", "v"}}, {}),
      std::invalid_argument);
  EXPECT_THROW(HubSpotProvider::create(Config::parse(R"({"version":"v3","api_key":{"name":"k"}})"),
                                       {{"k", "v"}}, {}),
               std::invalid_argument);
}

}  // namespace
