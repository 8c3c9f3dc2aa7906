#include "github.h"

#include <gtest/gtest.h>
#include <inlet/testing/request.h>

using inlet::auth::GitHubProvider;
using inlet::testing::RequestBuilder;

namespace {

GitHubProvider make(std::vector<std::string> secrets, bool allow_sha1 = false) {
  return GitHubProvider({allow_sha1, std::move(secrets)});
}

// Vector from GitHub's docs ("Validating webhook deliveries").
TEST(GitHub, DocsVector) {
  auto p = make({"It's a Secret to Everybody"});
  RequestBuilder r;
  r.body("Hello, World!")
      .header("x-hub-signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
      .header("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
      .header("x-github-event", "push");
  auto v = p.verify(r.request());
  EXPECT_EQ(v.verdict, INLET_ACCEPT) << v.code << " " << v.detail;
  EXPECT_EQ(v.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
  EXPECT_EQ(v.event_type, "push");
}

// Vectors from octokit/webhooks-methods tests.
TEST(GitHub, OctokitVectors) {
  auto p = make({"mysecret"}, /*allow_sha1=*/true);
  RequestBuilder r;
  r.body(R"({"foo":"bar"})")
      .header("x-hub-signature-256",
              "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3");
  EXPECT_EQ(p.verify(r.request()).verdict, INLET_ACCEPT);

  RequestBuilder legacy;
  legacy.body(R"({"foo":"bar"})")
      .header("x-hub-signature", "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8");
  EXPECT_EQ(p.verify(legacy.request()).verdict, INLET_ACCEPT);
}

TEST(GitHub, Sha1RefusedUnlessAllowed) {
  auto p = make({"mysecret"});
  RequestBuilder r;
  r.body(R"({"foo":"bar"})")
      .header("x-hub-signature", "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8");
  auto v = p.verify(r.request());
  EXPECT_EQ(v.verdict, INLET_REJECT);
  EXPECT_EQ(v.code, "missing_signature");
  EXPECT_EQ(v.http_status, 400);
}

TEST(GitHub, TamperedBodyIsMismatch) {
  auto p = make({"It's a Secret to Everybody"});
  RequestBuilder r;
  r.body("Hello, World?")
      .header("x-hub-signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  auto v = p.verify(r.request());
  EXPECT_EQ(v.code, "signature_mismatch");
  EXPECT_EQ(v.http_status, 401);
  EXPECT_EQ(v.detail.find("Secret to Everybody"), std::string::npos);
}

TEST(GitHub, RotationAnySecretMatches) {
  auto p = make({"new-secret", "It's a Secret to Everybody"});
  RequestBuilder r;
  r.body("Hello, World!")
      .header("x-hub-signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_EQ(p.verify(r.request()).verdict, INLET_ACCEPT);
}

TEST(GitHub, MalformedHeaders) {
  auto p = make({"s"});
  for (const char* bad :
       {"", "sha256=", "sha256=zz", "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8",
        "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 "}) {
    RequestBuilder r;
    r.body("Hello, World!").header("x-hub-signature-256", bad);
    auto v = p.verify(r.request());
    EXPECT_EQ(v.code, "malformed_signature") << "'" << bad << "'";
    EXPECT_EQ(v.http_status, 400);
  }
}

TEST(GitHub, DuplicatedHeaderIsMalformed) {
  auto p = make({"It's a Secret to Everybody"});
  RequestBuilder r;
  r.body("Hello, World!")
      .header("x-hub-signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
      .header("x-hub-signature-256",
              "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_EQ(p.verify(r.request()).code, "malformed_signature");
}

}  // namespace
