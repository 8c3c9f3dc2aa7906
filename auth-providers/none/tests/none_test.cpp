#include "none.h"

#include <gtest/gtest.h>
#include <inlet/testing/request.h>

#include <string>
#include <vector>

using inlet::auth::NoneProvider;
using inlet::sdk::Config;
using inlet::sdk::Host;
using inlet::sdk::Secret;
using inlet::testing::RequestBuilder;

namespace {

struct LogCapture {
  std::vector<std::pair<inlet_log_level, std::string>> lines;
  inlet_host host{};
  LogCapture() {
    host.size = sizeof(inlet_host);
    host.ctx = this;
    host.log = [](void* ctx, inlet_log_level level, inlet_str msg) {
      static_cast<LogCapture*>(ctx)->lines.emplace_back(level, std::string(msg.ptr, msg.len));
    };
  }
};

TEST(None, CreateWarnsAboutUnauthenticatedRequests) {
  LogCapture log;
  auto p = NoneProvider::create(Config(), {}, Host(&log.host));
  ASSERT_TRUE(p);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0].first, INLET_LOG_WARN);
  EXPECT_NE(log.lines[0].second.find("unauthenticated"), std::string::npos);
}

TEST(None, AcceptsEverything) {
  auto p = NoneProvider::create(Config(), {}, Host());
  std::vector<RequestBuilder> requests(4);
  requests[1].body(std::string(1 << 20, '\xff'));
  requests[2].header("authorization", "Bearer whatever").header("authorization", "x");
  requests[3].header("x-weird", "\xC3\xA9\x01").url("https://example.com/a?b=%zz");
  for (const auto& r : requests) {
    auto v = p->verify(r.request());
    EXPECT_EQ(v.verdict, INLET_ACCEPT);
    EXPECT_EQ(v.http_status, 200);
    EXPECT_TRUE(v.delivery_id.empty());
  }
}

TEST(None, RefusesSecrets) {
  std::vector<Secret> secrets{{"s", "value"}};
  EXPECT_THROW(NoneProvider::create(Config(), secrets, Host()), std::invalid_argument);
}

TEST(None, OptionalDeliveryAndEventHeaders) {
  auto p = NoneProvider::create(
      Config::parse(R"({"delivery_header":"X-Id","event_header":"X-Ev"})"), {}, Host());
  RequestBuilder r;
  r.header("x-id", "123").header("x-ev", "created");
  auto v = p->verify(r.request());
  EXPECT_EQ(v.delivery_id, "123");
  EXPECT_EQ(v.event_type, "created");
}

}  // namespace
