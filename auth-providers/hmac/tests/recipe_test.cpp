// The recipe language's plain functions, tested alone.
#include "recipe.h"

#include <Poco/JSON/Parser.h>
#include <gtest/gtest.h>

using namespace inlet::auth::hmac;
using Kind = TemplatePart::Kind;

namespace {

TEST(Template, CompilesPlaceholdersAndLiterals) {
  auto parts = compileTemplate("v0:{timestamp}:{body}");
  std::vector<TemplatePart> want = {
      {Kind::Literal, "v0:"}, {Kind::Timestamp, ""}, {Kind::Literal, ":"}, {Kind::Body, ""}};
  EXPECT_EQ(parts, want);

  parts = compileTemplate("{method}{url}{header:Webhook-ID}.{json:/signature/token}");
  want = {{Kind::Method, ""},
          {Kind::Url, ""},
          {Kind::Header, "webhook-id"},
          {Kind::Literal, "."},
          {Kind::Json, "/signature/token"}};
  EXPECT_EQ(parts, want);
}

TEST(Template, EscapedBracesAreLiteral) {
  auto parts = compileTemplate("{{x}}{body}}}");
  std::vector<TemplatePart> want = {{Kind::Literal, "{x}"}, {Kind::Body, ""}, {Kind::Literal, "}"}};
  EXPECT_EQ(parts, want);
  EXPECT_TRUE(compileTemplate("").empty());
}

TEST(Template, RejectsBadTemplates) {
  for (const char* bad : {"{", "{body", "}", "a}b", "{nope}", "{header:}", "{json:}", "{json:a/b}",
                          "{Body}", "{ body}", "{}"}) {
    EXPECT_THROW(compileTemplate(bad), std::invalid_argument) << bad;
  }
}

TEST(SplitItems, StripeStyle) {
  auto items = splitItems("t=1492774577,v1=abc, v1=def ,v0=old", ",", "=", 32);
  ASSERT_TRUE(items);
  std::vector<HeaderItem> want = {{"t", "1492774577"}, {"v1", "abc"}, {"v1", "def"}, {"v0", "old"}};
  EXPECT_EQ(*items, want);
}

TEST(SplitItems, StandardWebhooksStyleSplitsAtFirstSeparator) {
  // base64 may itself contain '=' padding; the key/value split is at the FIRST ','.
  auto items = splitItems("v1,abc= v1a,xyz==  v2,q,r", " ", ",", 32);
  ASSERT_TRUE(items);
  std::vector<HeaderItem> want = {{"v1", "abc="}, {"v1a", "xyz=="}, {"v2", "q,r"}};
  EXPECT_EQ(*items, want);
}

TEST(SplitItems, ItemsWithoutKeyAndEmptyItems) {
  auto items = splitItems(",,a,,b=c,", ",", "=", 32);
  ASSERT_TRUE(items);
  std::vector<HeaderItem> want = {{"", "a"}, {"b", "c"}};
  EXPECT_EQ(*items, want);
  items = splitItems("x y", " ", "", 32);
  ASSERT_TRUE(items);
  want = {{"", "x"}, {"", "y"}};
  EXPECT_EQ(*items, want);
  items = splitItems("", ",", "=", 32);
  ASSERT_TRUE(items);
  EXPECT_TRUE(items->empty());
}

TEST(SplitItems, BoundsTheItemCount) {
  std::string many;
  for (int i = 0; i < 33; ++i) many += "v1=a,";
  EXPECT_FALSE(splitItems(many, ",", "=", 32));
  EXPECT_TRUE(splitItems(many.substr(0, 5 * 32), ",", "=", 32));
  EXPECT_FALSE(splitItems("a", "", "=", 32));  // no separator: refused, not looped on
}

TEST(Timestamp, UnixSecondsAndMillis) {
  EXPECT_EQ(parseTimestampMs("1531420618", TimestampUnit::Seconds), 1531420618000);
  EXPECT_EQ(parseTimestampMs("1700000000123", TimestampUnit::Millis), 1700000000123);
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1.5", "0x10", "1234567890123456", "1e9"})
    EXPECT_FALSE(parseTimestampMs(bad, TimestampUnit::Seconds)) << bad;
}

TEST(Timestamp, Iso8601) {
  EXPECT_EQ(parseTimestampMs("2021-03-25T05:09:27Z", TimestampUnit::Iso8601), 1616648967000);
  EXPECT_EQ(parseTimestampMs("2021-03-25T05:09:27.250Z", TimestampUnit::Iso8601), 1616648967250);
  EXPECT_EQ(parseTimestampMs("2021-03-25T07:09:27+02:00", TimestampUnit::Iso8601), 1616648967000);
  EXPECT_EQ(parseTimestampMs("2021-03-24T23:09:27.123456789-06:00", TimestampUnit::Iso8601),
            1616648967123);
  EXPECT_EQ(parseTimestampMs("1970-01-01T00:00:00Z", TimestampUnit::Iso8601), 0);
  EXPECT_EQ(parseTimestampMs("2024-02-29T00:00:00z", TimestampUnit::Iso8601), 1709164800000);
  for (const char* bad :
       {"", "2021-03-25", "2021-03-25T05:09:27", "2021-03-25T05:09:27Z ", "2021-13-25T05:09:27Z",
        "2021-02-29T00:00:00Z", "2021-04-31T00:00:00Z", "2021-03-25T24:00:00Z",
        "2021-03-25T05:09:27.Z", "2021-03-25T05:09:27+0200", "2021-03-25X05:09:27Z",
        "２021-03-25T05:09:27Z"})
    EXPECT_FALSE(parseTimestampMs(bad, TimestampUnit::Iso8601)) << bad;
}

TEST(JsonPointer, Lookups) {
  Poco::JSON::Parser parser;
  auto doc = parser.parse(R"({"signature":{"timestamp":"1700000000","token":"t"},
      "n":1700000000000,"b":true,"f":1.5,"z":null,"a":[{"x":"y"}],"a/b":"slash","m~n":"tilde"})");
  EXPECT_EQ(jsonPointer(doc, "/signature/timestamp"), "1700000000");
  EXPECT_EQ(jsonPointer(doc, "/n"), "1700000000000");
  EXPECT_EQ(jsonPointer(doc, "/b"), "true");
  EXPECT_EQ(jsonPointer(doc, "/a/0/x"), "y");
  EXPECT_EQ(jsonPointer(doc, "/a~1b"), "slash");
  EXPECT_EQ(jsonPointer(doc, "/m~0n"), "tilde");
  for (const char* missing : {"", "signature", "/nope", "/signature", "/f", "/z", "/a", "/a/1/x",
                              "/a/01/x", "/a/-", "/signature/token/x", "/m~2n", "/m~"})
    EXPECT_FALSE(jsonPointer(doc, missing)) << missing;
}

inlet::sdk::Config cfg(const char* json) { return inlet::sdk::Config::parse(json); }

TEST(ParseRecipe, Defaults) {
  auto r = parseRecipe(cfg(R"({"header":"X-Sig"})"));
  EXPECT_EQ(r.header, "x-sig");
  EXPECT_EQ(r.algorithm, inlet::sdk::crypto::Digest::Sha256);
  EXPECT_EQ(r.encoding, Encoding::Hex);
  EXPECT_EQ(r.message, (std::vector<TemplatePart>{{Kind::Body, ""}}));
  EXPECT_FALSE(r.hasTimestamp());
  EXPECT_EQ(r.tolerance_ms, 0);
}

TEST(ParseRecipe, TimestampDefaultsToFiveMinutes) {
  auto r = parseRecipe(cfg(R"({"header":"s","timestamp_header":"T"})"));
  EXPECT_EQ(r.timestamp_header, "t");
  EXPECT_EQ(r.tolerance_ms, 300'000);
  EXPECT_TRUE(r.reject_future);
  r = parseRecipe(cfg(R"({"header":"s","timestamp_header":"T","tolerance":"0s"})"));
  EXPECT_EQ(r.tolerance_ms, 0);
}

TEST(ParseRecipe, CrossFieldErrors) {
  for (
      const char* bad : {
          R"({})",
          R"({"header":"a","signature_json":"/s"})",
          R"({"signature_json":"s"})",
          R"({"header":"a","algorithm":"md5"})",
          R"({"header":"a","encoding":"base32"})",
          R"({"signature_json":"/s","items":{"separator":","}})",
          R"({"header":"a","items":{"separator":""}})",
          R"({"header":"a","items":{"separator":",","signature_key":"v1"}})",
          R"({"header":"a","items":{"separator":",","kv_separator":"="}})",
          R"({"header":"a","items":{"separator":",","kv_separator":","}})",
          R"({"header":"a","items":{"separator":",","kv_separator":"=","signature_key":"v1","timestamp_key":"t"},"timestamp_header":"x"})",
          R"({"header":"a","timestamp_header":"x","timestamp_json":"/t"})",
          R"({"header":"a","timestamp_unit":"ns"})",
          R"({"header":"a","tolerance":"300s"})",
          R"({"header":"a","timestamp_header":"x","tolerance":"5 minutes"})",
          R"({"header":"a","message":"{timestamp}{body}"})",
          R"({"header":"a","message":""})",
          R"({"header":"a","message":"{bogus}"})",
          R"({"header":"a","key_encoding":"utf16"})",
          R"({"header":"a","delivery_id_json":"id"})",
      }) {
    EXPECT_THROW(parseRecipe(cfg(bad)), std::invalid_argument) << bad;
  }
}

TEST(PrepareKey, StripsPrefixAndDecodes) {
  auto r = parseRecipe(cfg(R"({"header":"a","key_encoding":"base64","key_prefix":"whsec_"})"));
  EXPECT_EQ(prepareKey(r, {"k", "whsec_aGVsbG8="}), "hello");
  EXPECT_EQ(prepareKey(r, {"k", "aGVsbG8"}), "hello");  // prefix and padding optional
  EXPECT_THROW(prepareKey(r, {"k", "whsec_!!!"}), std::invalid_argument);
  EXPECT_THROW(prepareKey(r, {"k", "whsec_"}), std::invalid_argument);
  try {
    prepareKey(r, {"mine", "whsec_sec!ret"});
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("sec!ret"), std::string::npos);  // never the value
    EXPECT_NE(std::string(e.what()).find("mine"), std::string::npos);
  }
  auto hex = parseRecipe(cfg(R"({"header":"a","key_encoding":"hex"})"));
  EXPECT_EQ(prepareKey(hex, {"k", "68656c6c6f"}), "hello");
  EXPECT_THROW(prepareKey(hex, {"k", "6g"}), std::invalid_argument);
  auto raw = parseRecipe(cfg(R"({"header":"a"})"));
  EXPECT_EQ(prepareKey(raw, {"k", "whsec_x"}), "whsec_x");  // Stripe: the whole string is the key
}

}  // namespace
