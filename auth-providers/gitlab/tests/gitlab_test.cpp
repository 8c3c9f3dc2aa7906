#include "gitlab.h"

#include <gtest/gtest.h>
#include <inlet/testing/request.h>

using inlet::auth::GitLabProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::testing::RequestBuilder;

namespace {

std::unique_ptr<GitLabProvider> make(std::vector<std::string> secrets) {
  std::vector<Secret> s;
  for (auto& v : secrets) s.push_back({"s", v});
  return GitLabProvider::create(Config(), s, Host());
}

// Headers of a push hook as GitLab's docs list them ("Webhook events" / "Delivery headers").
RequestBuilder pushHook(const std::string& token) {
  RequestBuilder r;
  r.body(R"({"object_kind":"push","ref":"refs/heads/main"})")
      .header("Content-Type", "application/json")
      .header("User-Agent", "GitLab/17.5.0")
      .header("X-Gitlab-Event", "Push Hook")
      .header("X-Gitlab-Webhook-UUID", "2b6a1a0e-7f0c-4a3e-9d7e-1c1e1f2a3b4c")
      .header("X-Gitlab-Instance", "https://gitlab.com")
      .header("X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e")
      .header("Idempotency-Key", "f5e5f430-f57b-4e6e-9fac-d9128cd7232f")
      .header("X-Gitlab-Token", token);
  return r;
}

TEST(GitLab, AcceptsTheSecretToken) {
  auto p = make({"My secret token"});
  auto v = p->verify(pushHook("My secret token").request());
  ASSERT_EQ(v.verdict, INLET_ACCEPT) << v.code;
  EXPECT_EQ(v.delivery_id, "f5e5f430-f57b-4e6e-9fac-d9128cd7232f");
  EXPECT_EQ(v.event_type, "Push Hook");
}

TEST(GitLab, EventUuidIsTheFallbackDeliveryId) {
  auto p = make({"t"});
  RequestBuilder r;
  r.header("x-gitlab-token", "t")
      .header("x-gitlab-event", "Issue Hook")
      .header("x-gitlab-event-uuid", "13792a34-cac6-4fda-95a8-c58e00a3954e");
  auto v = p->verify(r.request());
  EXPECT_EQ(v.delivery_id, "13792a34-cac6-4fda-95a8-c58e00a3954e");
  RequestBuilder bare;
  bare.header("x-gitlab-token", "t");
  auto b = p->verify(bare.request());
  EXPECT_EQ(b.verdict, INLET_ACCEPT);
  EXPECT_TRUE(b.delivery_id.empty() && b.event_type.empty());
}

TEST(GitLab, WrongMissingAndRotation) {
  auto p = make({"current", "previous"});
  EXPECT_EQ(p->verify(pushHook("previous").request()).verdict, INLET_ACCEPT);
  auto wrong = p->verify(pushHook("Current").request());
  EXPECT_EQ(wrong.code, "bad_credentials");
  EXPECT_EQ(wrong.http_status, 401);
  EXPECT_TRUE(wrong.delivery_id.empty());
  RequestBuilder none;
  none.header("x-gitlab-event", "Push Hook");
  auto m = p->verify(none.request());
  EXPECT_EQ(m.code, "missing_credentials");
  EXPECT_EQ(m.http_status, 401);
}

TEST(GitLab, HostileTokenHeaders) {
  auto p = make({"tok"});
  for (const auto& value :
       {std::string(""), std::string(" tok"), std::string("tok "), std::string(1 << 20, 't'),
        std::string("t\xC3\xB6k"), std::string("tok\0", 4), std::string("Bearer tok")}) {
    RequestBuilder r;
    r.header("x-gitlab-token", value);
    EXPECT_EQ(p->verify(r.request()).code, "bad_credentials");
  }
  RequestBuilder dup;
  dup.header("x-gitlab-token", "tok").header("X-Gitlab-Token", "tok");
  EXPECT_EQ(p->verify(dup.request()).code, "bad_credentials");
}

TEST(GitLab, NeedsASecret) {
  EXPECT_THROW(make({}), std::invalid_argument);
  EXPECT_THROW(make({""}), std::invalid_argument);
}

}  // namespace
