#include "segment.h"

#include <gtest/gtest.h>
#include <inlet/testing/request.h>

using inlet::auth::firstArrayElement;
using inlet::auth::SegmentProvider;
using inlet::testing::RequestBuilder;

namespace {

// segmentio/action-destinations webhook.test.ts signs {"cool":true} with secret "abc123"; Segment
// publishes no digest, so this one is computed with
//   printf '%s' '{"cool":true}' | openssl dgst -sha1 -hmac abc123
constexpr const char* kSecret = "abc123";
constexpr const char* kBody = R"({"cool":true})";
constexpr const char* kSig = "5099cab379b3be52908387457007040cc934ef86";

SegmentProvider make(SegmentProvider::Batches batches = SegmentProvider::Batches::kReject,
                     std::vector<std::string> secrets = {kSecret}) {
  return SegmentProvider({batches, std::move(secrets)});
}

inlet::sdk::Verdict run(const SegmentProvider& p, std::string body, std::string sig) {
  RequestBuilder r;
  r.body(std::move(body)).header("X-Signature", std::move(sig));
  return p.verify(r.request());
}

TEST(Segment, SdkTestInputs) {
  auto v = run(make(), kBody, kSig);
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.flags, 0u);
}

TEST(Segment, ExtractsMessageIdAndType) {
  auto p = make({}, {"s"});
  std::string body = R"({"type":"track","event":"Signed Up","messageId":"m-1"})";
  // printf '%s' "$body" | openssl dgst -sha1 -hmac s
  auto v = run(p, body, "6e4a40bdf92d71c799ca142dc7df627a19abfea1");
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "m-1");
  EXPECT_EQ(v.event_type, "track");
}

TEST(Segment, TamperedBodyIsMismatch) {
  auto v = run(make(), R"({"cool":false})", kSig);
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find(kSecret), std::string::npos);
}

TEST(Segment, WrongSecretIsMismatch) {
  EXPECT_EQ(run(make({}, {"other"}), kBody, kSig).code, "signature_mismatch");
}

TEST(Segment, RotationAnySecretMatches) {
  EXPECT_EQ(run(make({}, {"new", kSecret}), kBody, kSig).verdict, INLET_ACCEPT);
}

TEST(Segment, BatchRejectedByDefault) {
  auto v = run(make(), std::string("[") + kBody + R"(,{"cool":false}])", kSig);
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, "batch_not_allowed");
  EXPECT_EQ(v.http_status, 400);
}

// webhook.test.ts "supports request signing with batched events": the signature covers
// JSON.stringify(body[0]) only.
TEST(Segment, BatchFirstItemVerifiesElementZero) {
  auto p = make(SegmentProvider::Batches::kFirstItem);
  auto v = run(p, std::string("[") + kBody + R"(,{"cool":false,"s":"],\"x"}])", kSig);
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.flags, INLET_AUTH_FIRST_ITEM_ONLY);

  // A single-element batch is still a batch: only element 0 is signed.
  v = run(p, std::string("[") + kBody + "]", kSig);
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.flags, INLET_AUTH_FIRST_ITEM_ONLY);

  // Non-array bodies are verified whole and carry no flag.
  v = run(p, kBody, kSig);
  EXPECT_EQ(v.verdict, INLET_ACCEPT);
  EXPECT_EQ(v.flags, 0u);
}

TEST(Segment, BatchFirstItemTamperedFirstElementIsMismatch) {
  auto p = make(SegmentProvider::Batches::kFirstItem);
  EXPECT_EQ(run(p, R"([{"cool":false},{"cool":true}])", kSig).code, "signature_mismatch");
  // The whole array's signature is not the first element's.
  EXPECT_EQ(run(p, R"([{"cool":true} ])", kSig).verdict, INLET_ACCEPT);
}

TEST(Segment, BatchWithoutCompleteFirstElementIsMalformed) {
  auto p = make(SegmentProvider::Batches::kFirstItem);
  for (const char* body : {"[", "[]", "[ ]", R"([{"cool":true})", R"([{"cool":"tr)",
                           R"([{"cool":true]])", R"([{"a":"\)", R"([{"cool":true}x])", "[,]"}) {
    auto v = run(p, body, kSig);
    EXPECT_EQ(v.code, "malformed_signature") << body;
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(Segment, FirstArrayElementSpans) {
  EXPECT_EQ(firstArrayElement(R"([{"a":1},{"b":2}])"), R"({"a":1})");
  EXPECT_EQ(firstArrayElement(R"([{"a":"x\"]},"},2])"), R"({"a":"x\"]},"})");
  EXPECT_EQ(firstArrayElement(R"([{"a":"\\"},2])"), R"({"a":"\\"})");
  EXPECT_EQ(firstArrayElement(R"([[1,[2]],3])"), "[1,[2]]");
  EXPECT_EQ(firstArrayElement(R"( [ "s,]" , 1 ])"), R"("s,]")");
  EXPECT_EQ(firstArrayElement("[12.5e3]"), "12.5e3");
  EXPECT_EQ(firstArrayElement("[true,false]"), "true");
  EXPECT_EQ(firstArrayElement("[\xC3\xA9\"\xE2\x82\xAC\"]"), std::nullopt);  // junk then string
  EXPECT_EQ(firstArrayElement("[\"\xE2\x82\xAC\"]"), "\"\xE2\x82\xAC\"");    // UTF-8 kept as is
  EXPECT_EQ(firstArrayElement(R"({"a":1})"), std::nullopt);
  EXPECT_EQ(firstArrayElement(""), std::nullopt);
  EXPECT_EQ(firstArrayElement(R"([{"a":1}})"), std::nullopt);
  EXPECT_EQ(firstArrayElement(R"([{"a":[1}]])"), std::nullopt);
}

TEST(Segment, MissingHeader) {
  RequestBuilder r;
  r.body(kBody);
  auto v = make().verify(r.request());
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);
}

TEST(Segment, MalformedHeaders) {
  auto p = make();
  std::string huge(1 << 20, 'a');
  for (std::string bad :
       {std::string(""), std::string("sha1=") + kSig,
        std::string("5099CAB379B3BE52908387457007040CC934EF86"), std::string(kSig).substr(0, 39),
        std::string(kSig) + "0", std::string(kSig) + " ", std::string("\xC3\xA9") + (kSig + 2),
        std::string("UJnKs3mzvlKQg4dFcAcEDMk074Y="), huge}) {
    auto v = run(p, kBody, bad);
    EXPECT_EQ(v.code, "malformed_signature") << bad.substr(0, 60);
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(Segment, DuplicatedHeaderIsMalformed) {
  RequestBuilder r;
  r.body(kBody).header("x-signature", kSig).header("X-Signature", kSig);
  EXPECT_EQ(make().verify(r.request()).code, "malformed_signature");
}

TEST(Segment, CreateValidatesOptions) {
  inlet::sdk::Config cfg = inlet::sdk::Config::parse(R"({"batches":"first_item"})");
  EXPECT_NE(SegmentProvider::create(cfg, {{"s", "x"}}, {}), nullptr);
  EXPECT_THROW(SegmentProvider::create(cfg, {}, {}), std::invalid_argument);
  EXPECT_THROW(SegmentProvider::create(cfg, {{"s", ""}}, {}), std::invalid_argument);
  EXPECT_THROW(
      SegmentProvider::create(inlet::sdk::Config::parse(R"({"batches":"all"})"), {{"s", "x"}}, {}),
      std::invalid_argument);
}

}  // namespace
