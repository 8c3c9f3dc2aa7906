// The real `inlet serve` on a real socket with the real plugins and real SQLite files.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace inlet::testing;

namespace {

const std::string kSecret = "It's a Secret to Everybody";

std::string githubConfig(const TempDir& dir, const std::string& server_extra = "",
                         const std::string& pipeline_extra = "") {
  return baseConfig(dir, server_extra) +
         "secrets:\n"
         "  current: { value: \"new-secret\" }\n"
         "  previous: { value: \"" +
         kSecret +
         "\" }\n"
         "pipelines:\n"
         "  github:\n"
         "    path: /webhook/github\n"
         "    auth: { provider: github, secrets: [current, previous] }\n"
         "    dedup: { key: auto, window: 72h }\n"
         "    sinks: [local]\n"
         "    table: github_events\n" +
         pipeline_extra;
}

std::vector<std::pair<std::string, std::string>> signedHeaders(const std::string& secret,
                                                               const std::string& body,
                                                               const std::string& delivery) {
  return {{"X-Hub-Signature-256", githubSignature(secret, body)},
          {"X-GitHub-Event", "issues"},
          {"X-GitHub-Delivery", delivery},
          {"Content-Type", "application/json"}};
}

// A client connection driven step by step: send some bytes, read exactly one response.
class Wire {
 public:
  explicit Wire(uint16_t port) : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {
    socket_.setReceiveTimeout(Poco::Timespan(10, 0));
    socket_.setNoDelay(true);
  }
  void send(const std::string& bytes) {
    socket_.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  }
  // One response (head + Content-Length body); "" when the server closed first.
  std::string response() {
    for (;;) {
      size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t length = 0;
        size_t cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(buffer_.substr(cl + 16));
        if (buffer_.size() >= end + 4 + length) {
          std::string r = buffer_.substr(0, end + 4 + length);
          buffer_.erase(0, end + 4 + length);
          return r;
        }
      }
      char buf[4096];
      int n = 0;
      try {
        n = socket_.receiveBytes(buf, sizeof buf);
      } catch (const Poco::Exception&) {
        return "";
      }
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

std::string signedRequest(const std::string& body, const std::string& delivery,
                          const std::string& extra_headers = "") {
  std::string r = "POST /webhook/github HTTP/1.1\r\nHost: x\r\n";
  for (const auto& [n, v] : signedHeaders(kSecret, body, delivery)) r += n + ": " + v + "\r\n";
  return r + extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class ServerTest : public ::testing::Test {
 protected:
  void startWith(const std::string& config) {
    server_ = std::make_unique<InletServer>(dir_, config);
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
  }
  std::string journalCount() {
    return sqlite(dir_.str("journal.db"), "SELECT count(*) FROM events");
  }
  std::string rows(const std::string& expected) {
    return waitForQuery(dir_.str("inlet.db"), "SELECT count(*) FROM github_events", expected);
  }
  // The value of one series in /_inlet/metrics ("absent" when there is none).
  std::string metric(const std::string& series) {
    auto m = http(server_->port(), "GET", "/_inlet/metrics", "");
    auto p = m.body.find("\n" + series + " ");
    if (p == std::string::npos) return "absent";
    p += series.size() + 2;
    return m.body.substr(p, m.body.find('\n', p) - p);
  }

  TempDir dir_;
  std::unique_ptr<InletServer> server_;
};

TEST_F(ServerTest, SignedWebhookLandsInTheTable) {
  startWith(githubConfig(dir_));
  std::string body = R"({"action":"opened","issue":{"number":7}})";
  auto r = post(server_->port(), "/webhook/github", body, signedHeaders("new-secret", body, "d-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"status\":\"accepted\""), std::string::npos);
  auto id_pos = r.body.find("\"id\":\"");
  ASSERT_NE(id_pos, std::string::npos);
  std::string id = r.body.substr(id_pos + 6, 36);
  // A 2xx means the event is in the journal already.
  EXPECT_EQ(sqlite(dir_.str("journal.db"),
                   "SELECT id, pipeline, provider, event_type, delivery_id FROM events"),
            id + "|github|github|issues|d-1\n");
  EXPECT_EQ(waitForQuery(dir_.str("inlet.db"),
                         "SELECT id, json_extract(data,'$.issue.number'), event_type, delivery_id, "
                         "json_extract(headers,'$.\"x-github-event\"'), body = CAST(data AS BLOB) "
                         "FROM github_events",
                         id + "|7|issues|d-1|issues|1\n"),
            id + "|7|issues|d-1|issues|1\n");
}

TEST_F(ServerTest, RawBodyIsStoredByteExact) {
  startWith(githubConfig(dir_));
  std::string body = "{ \"a\" :\t[1, 2 ],\n \"u\": \"\\u00e9\xc3\xa9\" }";
  auto r = post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "raw-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::string hex = [&] {
    std::string h;
    for (unsigned char c : body) {
      static const char* d = "0123456789ABCDEF";
      h += d[c >> 4];
      h += d[c & 15];
    }
    return h + "\n";
  }();
  // The journal keeps JSON bodies once (as data) when the bytes are identical.
  EXPECT_EQ(
      sqlite(dir_.str("journal.db"), "SELECT hex(coalesce(body, CAST(data AS BLOB))) FROM events"),
      hex);
  EXPECT_EQ(waitForQuery(dir_.str("inlet.db"), "SELECT hex(body) FROM github_events", hex), hex);
}

TEST_F(ServerTest, TamperedBodyOrWrongSecretIs401AndStoresNothing) {
  startWith(githubConfig(dir_));
  std::string body = R"({"action":"opened"})";
  auto tampered =
      post(server_->port(), "/webhook/github", body + " ", signedHeaders(kSecret, body, "t-1"));
  EXPECT_EQ(tampered.status, 401);
  EXPECT_NE(tampered.body.find("\"code\":\"signature_mismatch\""), std::string::npos)
      << tampered.body;
  auto wrong = post(server_->port(), "/webhook/github", body, signedHeaders("wrong", body, "t-2"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body.find(kSecret), std::string::npos);
  EXPECT_EQ(wrong.body.find("new-secret"), std::string::npos);
  EXPECT_EQ(journalCount(), "0\n");
}

TEST_F(ServerTest, MissingSignatureIs400) {
  startWith(githubConfig(dir_));
  auto r = post(server_->port(), "/webhook/github", "{}", {{"X-GitHub-Delivery", "m-1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":\"missing_signature\""), std::string::npos);
  EXPECT_EQ(journalCount(), "0\n");
}

TEST_F(ServerTest, RotatedSecretVerifies) {
  startWith(githubConfig(dir_));
  std::string body = R"({"rotated":true})";
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "r-1")).status,
      200);
  EXPECT_EQ(post(server_->port(), "/webhook/github", body, signedHeaders("new-secret", body, "r-2"))
                .status,
            200);
  EXPECT_EQ(journalCount(), "2\n");
}

TEST_F(ServerTest, OversizedBodyIs413) {
  startWith(githubConfig(dir_, "  max_body_bytes: 1024\n"));
  std::string body = "{\"pad\":\"" + std::string(2000, 'x') + "\"}";
  auto r = post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "big-1"));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("\"code\":\"body_too_large\""), std::string::npos);
  EXPECT_EQ(journalCount(), "0\n");
}

TEST_F(ServerTest, HugeDeclaredContentLengthIs413WithoutReading) {
  startWith(githubConfig(dir_));
  auto start = std::chrono::steady_clock::now();
  // 10 GB declared, no body sent: the answer must come from the header alone.
  std::string resp =
      raw(server_->port(),
          "POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n", 5000);
  EXPECT_EQ(statusOf(resp), 413) << resp;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_NE(resp.find("\"code\":\"body_too_large\""), std::string::npos) << resp;
  // The unread body makes the connection unusable: the server must say it closes it.
  EXPECT_NE(resp.find("Connection: close"), std::string::npos) << resp;
}

TEST_F(ServerTest, ChunkedBodyOverTheLimitIs413) {
  startWith(githubConfig(dir_, "  max_body_bytes: 4096\n"));
  std::string chunk(1000, 'a');
  std::string req =
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 8; ++i) req += "3e8\r\n" + chunk + "\r\n";
  req += "0\r\n\r\n";
  EXPECT_EQ(statusOf(raw(server_->port(), req)), 413);
  EXPECT_EQ(journalCount(), "0\n");
}

TEST_F(ServerTest, ChunkedSignedBodyIsAccepted) {
  startWith(githubConfig(dir_));
  std::string body = R"({"chunked":true,"n":12345})";
  std::string req =
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: "
      "close\r\n"
      "X-GitHub-Delivery: ch-1\r\nX-Hub-Signature-256: " +
      githubSignature(kSecret, body) + "\r\n\r\n";
  req += "a\r\n" + body.substr(0, 10) + "\r\n";
  char hex[16];
  std::snprintf(hex, sizeof hex, "%zx", body.size() - 10);
  req += std::string(hex) + "\r\n" + body.substr(10) + "\r\n0\r\n\r\n";
  std::string resp = raw(server_->port(), req);
  EXPECT_EQ(statusOf(resp), 200) << resp;
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, SignedInvalidJsonIs422AndStoresNothing) {
  startWith(githubConfig(dir_));
  std::string body = "{not json";
  auto r = post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "j-1"));
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"code\":\"invalid_json\""), std::string::npos);
  EXPECT_EQ(journalCount(), "0\n");
}

TEST_F(ServerTest, SignedNumbersPastTheirColumnsRangeAre422AndTheServerStaysUp) {
  // An unsigned 64-bit number in a timestamp column used to throw out of the pipeline on the
  // event loop, which ended the process.
  startWith(githubConfig(dir_, "",
                         "    columns:\n"
                         "      - { name: at, type: timestamp, pointer: /at }\n"
                         "      - { name: n, type: integer, pointer: /n }\n"));
  int i = 0;
  for (const char* body : {R"({"at":18446744073709551615})", R"({"at":9000000000000000000})",
                           R"({"n":18446744073709551615})"}) {
    SCOPED_TRACE(body);
    auto r = post(server_->port(), "/webhook/github", body,
                  signedHeaders(kSecret, body, "range-" + std::to_string(i++)));
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_NE(r.body.find("\"code\":\"invalid_column\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(journalCount(), "0\n");
  std::string good = R"({"at":1704164645,"n":9223372036854775807})";
  auto r = post(server_->port(), "/webhook/github", good, signedHeaders(kSecret, good, "range-ok"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(sqlite(dir_.str("journal.db"), "SELECT columns FROM events"),
            "{\"at\":\"2024-01-02T03:04:05.000Z\",\"n\":9223372036854775807}\n");
}

TEST_F(ServerTest, UnknownPathIs404AndGetIs405) {
  startWith(githubConfig(dir_));
  auto r = post(server_->port(), "/webhook/nope", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"code\":\"unknown_pipeline\""), std::string::npos);
  auto g = http(server_->port(), "GET", "/webhook/github", "");
  EXPECT_EQ(g.status, 405);
  EXPECT_NE(g.body.find("\"code\":\"method_not_allowed\""), std::string::npos);
  EXPECT_EQ(g.headers["Allow"], "POST");
}

TEST_F(ServerTest, SameDeliveryTwiceIsStoredOnce) {
  startWith(githubConfig(dir_));
  std::string body = R"({"action":"opened"})";
  auto first =
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "dup-1"));
  auto second =
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "dup-1"));
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(second.body.find("\"status\":\"duplicate\""), std::string::npos) << second.body;
  // The duplicate answer names the original event.
  EXPECT_EQ(first.body.substr(first.body.find("\"id\"")),
            second.body.substr(second.body.find("\"id\"")));
  EXPECT_EQ(journalCount(), "1\n");
  EXPECT_EQ(rows("1\n"), "1\n");
}

TEST_F(ServerTest, ConcurrentDuplicatesAreStoredOnce) {
  startWith(githubConfig(dir_));
  std::string body = R"({"race":true})";
  std::vector<std::future<HttpResponse>> futures;
  for (int i = 0; i < 16; ++i)
    futures.push_back(std::async(std::launch::async, [&] {
      return post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "race-1"));
    }));
  int accepted = 0, duplicate = 0;
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_EQ(r.status, 200) << r.body;
    if (r.body.find("accepted") != std::string::npos) ++accepted;
    if (r.body.find("duplicate") != std::string::npos) ++duplicate;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(duplicate, 15);
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, StalledSenderTimesOut) {
  startWith(githubConfig(dir_, "  read_timeout: 1s\n"));
  auto start = std::chrono::steady_clock::now();
  // Declares 100 bytes, sends 10, then stalls.
  std::string resp = raw(
      server_->port(),
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", 8000);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(6)) << "the worker was held by a stalled sender";
  EXPECT_EQ(statusOf(resp), 408) << resp;
  EXPECT_NE(resp.find("\"code\":\"request_timeout\""), std::string::npos) << resp;
  EXPECT_EQ(journalCount(), "0\n");
  // And the server still answers.
  EXPECT_EQ(post(server_->port(), "/webhook/nope", "{}").status, 404);
}

TEST_F(ServerTest, MoreKeepAliveConnectionsThanThreadsAreAllServed) {
  startWith(
      githubConfig(dir_, "  threads: 1\n  max_keepalive_requests: 5\n  keepalive_timeout: 5s\n"));
  // One event loop, 64 concurrent keep-alive connections: none waits for another to close.
  const int connections = 64, per_connection = 6;
  std::vector<std::future<int>> futures;
  for (int c = 0; c < connections; ++c) {
    futures.push_back(std::async(std::launch::async, [&, c] {
      Poco::Net::HTTPClientSession session("127.0.0.1", server_->port());
      session.setKeepAlive(true);
      session.setTimeout(Poco::Timespan(20, 0));
      int ok = 0;
      for (int i = 0; i < per_connection; ++i) {
        std::string body = "{\"c\":" + std::to_string(c) + ",\"i\":" + std::to_string(i) + "}";
        Poco::Net::HTTPRequest req("POST", "/webhook/github", "HTTP/1.1");
        for (const auto& [n, v] :
             signedHeaders(kSecret, body, "ka-" + std::to_string(c) + "-" + std::to_string(i)))
          req.set(n, v);
        req.setContentLength(static_cast<std::streamsize>(body.size()));
        req.setKeepAlive(true);
        try {
          session.sendRequest(req) << body;
          Poco::Net::HTTPResponse resp;
          std::string out;
          Poco::StreamCopier::copyToString(session.receiveResponse(resp), out);
          if (resp.getStatus() == 200) ++ok;
        } catch (const Poco::Exception&) {
          session.reset();
        }
      }
      return ok;
    }));
  }
  int total = 0;
  for (auto& f : futures) total += f.get();
  EXPECT_EQ(total, connections * per_connection);
  EXPECT_EQ(journalCount(), std::to_string(connections * per_connection) + "\n");
}

TEST_F(ServerTest, PortAlreadyInUseRefusesToStart) {
  startWith(githubConfig(dir_));
  TempDir other;
  std::string cfg = githubConfig(other);
  cfg.replace(cfg.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(server_->port()));
  InletServer second(other, cfg);
  std::string error;
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("cannot listen"), std::string::npos) << error;
  // The first instance is unaffected.
  EXPECT_EQ(post(server_->port(), "/webhook/nope", "{}").status, 404);
}

TEST_F(ServerTest, SigtermFinishesInFlightAndExitsCleanly) {
  startWith(githubConfig(dir_));
  std::string body = R"({"graceful":true})";
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "g-1")).status,
      200);
  EXPECT_EQ(server_->stop(), 0);
  EXPECT_NE(server_->log().find("stopped cleanly"), std::string::npos) << server_->log();
  EXPECT_EQ(journalCount(), "1\n");
  EXPECT_EQ(rows("1\n"), "1\n");
}

TEST_F(ServerTest, SigtermWaitsForSinksOnlyForTheGracePeriod) {
  // A sink that cannot deliver (nothing listens on its port) holds the shutdown for at most
  // shutdown_grace, and the log names it; the event stays in the journal for the next start.
  startWith(baseConfig(dir_, "  shutdown_grace: 1s\n") +
            "  down: { type: http, url: \"http://127.0.0.1:9/hook\", timeout: 1s }\n"
            "secrets:\n  s: { value: \"" +
            std::string(kSecret) +
            "\" }\n"
            "pipelines:\n  github:\n    path: /webhook/github\n"
            "    auth: { provider: github, secrets: [s] }\n    sinks: [local, down]\n"
            "    table: github_events\n");
  std::string body = R"({"down":true})";
  ASSERT_EQ(
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "dn-1")).status,
      200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->stop(), 0);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_GE(took, std::chrono::milliseconds(900)) << "it did not wait for the sink at all";
  EXPECT_NE(server_->log().find("sinks still behind at shutdown"), std::string::npos)
      << server_->log();
  EXPECT_NE(server_->log().find("down"), std::string::npos);
  EXPECT_EQ(rows("1\n"), "1\n");  // the sink that works has it
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, Kill9DuringABurstLosesNoAcknowledgedEvent) {
  startWith(githubConfig(dir_));
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::map<std::string, std::pair<std::string, std::string>> by_delivery;  // → body, event id
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&, t] {
      for (int i = 0; !stop && i < 100000; ++i) {
        std::string body = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        std::string delivery = "k-" + std::to_string(t) + "-" + std::to_string(i);
        try {
          auto r = post(server_->port(), "/webhook/github", body,
                        signedHeaders(kSecret, body, delivery));
          if (r.status == 200) {
            auto p = r.body.find("\"id\":\"");
            std::lock_guard<std::mutex> lock(mutex);
            acknowledged.insert(r.body.substr(p + 6, 36));
            by_delivery[delivery] = {body, r.body.substr(p + 6, 36)};
          }
        } catch (const std::exception&) {
          return;  // the server is gone
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  server_->kill(SIGKILL);
  stop = true;
  for (auto& s : senders) s.join();
  ASSERT_GT(acknowledged.size(), 20u) << "the burst did not get going";

  std::string error;
  ASSERT_TRUE(server_->start(&error)) << error;
  std::set<std::string> stored;
  std::istringstream ids(sqlite(dir_.str("journal.db"), "SELECT id FROM events"));
  for (std::string line; std::getline(ids, line);) stored.insert(line);
  for (const auto& id : acknowledged)
    EXPECT_TRUE(stored.count(id)) << "acknowledged event " << id << " was lost";
  // After the restart, delivery catches up: every journaled event reaches the table.
  EXPECT_EQ(rows(std::to_string(stored.size()) + "\n"), std::to_string(stored.size()) + "\n");
  // And every acknowledged delivery still holds its dedup claim: sent again, it is a duplicate
  // of the original event.
  int resent = 0;
  for (const auto& [delivery, sent] : by_delivery) {
    if (++resent > 300) break;
    auto r = post(server_->port(), "/webhook/github", sent.first,
                  signedHeaders(kSecret, sent.first, delivery));
    EXPECT_EQ(r.status, 200) << delivery;
    EXPECT_NE(r.body.find("\"duplicate\""), std::string::npos) << delivery << ": " << r.body;
    EXPECT_NE(r.body.find(sent.second), std::string::npos) << delivery << ": " << r.body;
  }
  EXPECT_EQ(journalCount(), std::to_string(stored.size()) + "\n");
}

TEST_F(ServerTest, HealthAndMetrics) {
  startWith(githubConfig(dir_));
  std::string body = "{}";
  post(server_->port(), "/webhook/github", body, signedHeaders("wrong", body, "x"));
  auto h = http(server_->port(), "GET", "/_inlet/health", "");
  EXPECT_EQ(h.status, 200);
  auto m = http(server_->port(), "GET", "/_inlet/metrics", "");
  EXPECT_NE(
      m.body.find("inlet_requests_total{pipeline=\"github\",outcome=\"signature_mismatch\"} 1"),
      std::string::npos)
      << m.body;
}

TEST_F(ServerTest, MetricsCountDedupClaimsInMemory) {
  startWith(githubConfig(dir_));
  EXPECT_EQ(metric("inlet_dedup_claims_in_memory"), "0");
  EXPECT_EQ(metric("inlet_dedup_claim_flushes_total"), "0");  // the first after 60 s or 65,536
  for (const char* delivery : {"m-1", "m-2", "m-1"}) {
    std::string body = std::string("{\"d\":\"") + delivery + "\"}";
    EXPECT_EQ(post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, delivery))
                  .status,
              200);
  }
  EXPECT_EQ(metric("inlet_dedup_claims_in_memory"), "2");  // the repeat claims nothing
  EXPECT_EQ(metric("inlet_dedup_claim_flush_failures_total"), "0");
  EXPECT_EQ(metric("inlet_dedup_claim_merges_total"), "0");
  EXPECT_EQ(metric("inlet_dedup_claim_merge_failures_total"), "0");
}

TEST_F(ServerTest, RequestBodiesInMemoryAreBounded) {
  // Room for one 40,000-byte body, not two: bodies are held from admission to the answer.
  startWith(githubConfig(dir_, "  max_body_bytes: 48KiB\n  max_buffered_bytes: 64KiB\n"));
  const std::string big = "{\"pad\":\"" + std::string(40000 - 10, 'a') + "\"}";
  ASSERT_EQ(big.size(), 40000u);
  const std::string first = signedRequest(big, "mem-1");
  const std::string head_only = first.substr(0, first.size() - big.size());
  EXPECT_EQ(metric("inlet_request_body_bytes_held"), "0");

  // A sends its head and half its body, then stalls: its 40,000 bytes are held.
  Wire a(server_->port());
  a.send(head_only + big.substr(0, 20000));
  for (int i = 0; i < 200 && metric("inlet_request_body_bytes_held") != "40000"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(metric("inlet_request_body_bytes_held"), "40000");

  // B declares as much: refused before its body is read, with Retry-After, nothing stored.
  std::string refused = raw(server_->port(), signedRequest(big, "mem-2"), 5000);
  EXPECT_EQ(statusOf(refused), 503) << refused;
  EXPECT_NE(refused.find("\"code\":\"overloaded\""), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  // A chunked body is refused once what has arrived passes the budget.
  std::string chunk(30000, 'b');
  std::string chunked =
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\n"
      "Transfer-Encoding: chunked\r\n\r\n7530\r\n" +
      chunk + "\r\n0\r\n\r\n";
  std::string refused_chunked = raw(server_->port(), chunked, 5000);
  EXPECT_EQ(statusOf(refused_chunked), 503) << refused_chunked;
  // Small bodies still fit next to A.
  std::string small = R"({"small":1})";
  EXPECT_EQ(post(server_->port(), "/webhook/github", small, signedHeaders(kSecret, small, "mem-3"))
                .status,
            200);

  // A finishes: stored, and its bytes are given back.
  a.send(big.substr(20000));
  EXPECT_EQ(statusOf(a.response()), 200);
  EXPECT_EQ(metric("inlet_request_body_bytes_held"), "0");
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", big, signedHeaders(kSecret, big, "mem-2")).status,
      200);

  // A sender that hangs up halfway gives its bytes back too.
  {
    Wire c(server_->port());
    c.send(signedRequest(big, "mem-4").substr(0, head_only.size() + 100));
    for (int i = 0; i < 200 && metric("inlet_request_body_bytes_held") != "40000"; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(metric("inlet_request_body_bytes_held"), "40000");
  }
  for (int i = 0; i < 200 && metric("inlet_request_body_bytes_held") != "0"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(metric("inlet_request_body_bytes_held"), "0");
  EXPECT_EQ(journalCount(), "3\n");  // mem-1, mem-3, mem-2
  EXPECT_EQ(metric("inlet_requests_total{pipeline=\"github\",outcome=\"overloaded\"}"), "2");
}

TEST_F(ServerTest, MetricsHistogramsOfRequestsAndGroupCommits) {
  startWith(githubConfig(dir_));
  const std::string requests = "inlet_request_duration_seconds_count{pipeline=\"github\"}";
  EXPECT_EQ(metric(requests), "0");
  EXPECT_EQ(metric("inlet_journal_commit_seconds_count"), "0");
  // One accepted, one duplicate (both through the journal), one refused before it.
  for (const char* delivery : {"h-1", "h-1"}) {
    std::string body = "{\"h\":1}";
    EXPECT_EQ(post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, delivery))
                  .status,
              200);
  }
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", "{}", signedHeaders("wrong", "{}", "h-2")).status,
      401);
  EXPECT_EQ(metric(requests), "3");
  EXPECT_EQ(metric("inlet_request_duration_seconds_bucket{pipeline=\"github\",le=\"+Inf\"}"), "3");
  // Requests sent one after another: a group commit each, one request in each.
  EXPECT_EQ(metric("inlet_journal_commit_seconds_count"), "2");
  EXPECT_EQ(metric("inlet_journal_commit_requests_sum"), "2");
  EXPECT_EQ(metric("inlet_journal_commit_requests_bucket{le=\"1\"}"), "2");
  double seconds = std::stod(metric("inlet_journal_commit_seconds_sum"));
  EXPECT_GT(seconds, 0);
  EXPECT_LT(seconds, 60);
  EXPECT_GE(std::stod(metric("inlet_request_duration_seconds_sum{pipeline=\"github\"}")), seconds);
}

// Name → priority of every thread of `pid` (/proc/<pid>/task/<tid>/comm and .../stat):
// "nice <n>", or "idle" for one in the idle scheduling class. Threads of the same name are listed
// once each, as "name#2" and so on.
static std::map<std::string, std::string> threadPriorities(pid_t pid) {
  std::map<std::string, std::string> out;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name = readFile(t.path() / "comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    std::string stat = readFile(t.path() / "stat");
    auto close = stat.rfind(')');  // the thread name may hold spaces
    if (close == std::string::npos) continue;
    std::istringstream in(stat.substr(close + 2));
    // Fields 3.. follow the name: state is field 3, nice field 19, the policy field 41.
    std::vector<std::string> fields(3);
    for (std::string field; fields.size() <= 41 && in >> field;) fields.push_back(field);
    if (fields.size() <= 41) continue;
    std::string key = name;
    for (int n = 2; out.count(key); ++n) key = name + "#" + std::to_string(n);
    out[key] = std::stoi(fields[41]) == SCHED_IDLE ? "idle" : "nice " + fields[19];
  }
  return out;
}

TEST_F(ServerTest, BackgroundThreadsRunAtALowerPriorityAndAreNamed) {
  errno = 0;
  int base = getpriority(PRIO_PROCESS, 0);  // the server inherits the test's nice value
  ASSERT_FALSE(base == -1 && errno != 0);
  if (base > 12) GTEST_SKIP() << "the test itself runs at nice " << base;
  startWith(githubConfig(dir_, "  background_nice: 7\n  threads: 2\n"));
  const std::string lower = "nice " + std::to_string(base + 7),
                    same = "nice " + std::to_string(base);
  // Sink delivery, journal checkpoints, the dedup-claims flush and merges are lowered; the event
  // loops, the journal writer and the delivery-acknowledgement waiter keep the server's priority.
  const std::map<std::string, std::string> expected = {
      {"sink:local", lower},    {"inlet-ckpt", lower},    {"inlet-claims", lower},
      {"inlet-catchup", lower}, {"inlet-compact", lower}, {"inlet-writer", same},
      {"inlet-loop-0", same},   {"inlet-loop-1", same},   {"inlet-acks", same}};
  // Threads name and lower themselves as they start: wait until all have.
  std::map<std::string, std::string> priorities;
  auto settled = [&] {
    for (const auto& [name, priority] : expected)
      if (!priorities.count(name) || priorities[name] != priority) return false;
    return true;
  };
  for (int i = 0; i < 200 && !settled(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    priorities = threadPriorities(server_->pid());
  }
  std::string all;
  for (const auto& [name, value] : priorities) all += name + "=" + value + " ";
  for (const auto& [name, priority] : expected)
    EXPECT_EQ(priorities.count(name) ? priorities[name] : "none", priority) << name << ": " << all;
  // And the server still lands events through the lowered sink thread.
  std::string body = R"({"n":1})";
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "nice-1")).status,
      200);
  EXPECT_EQ(rows("1\n"), "1\n");
}

TEST_F(ServerTest, ByDefaultOneEventLoopPerCoreButOne) {
  // The loops leave a core to the journal writer (every acknowledgement waits for it) and the
  // sinks; `threads:` overrides it.
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);  // the server inherits this mask
  const int expected = std::max(1, CPU_COUNT(&set) - 1);
  auto loops = [&] {
    int n = 0;
    for (const auto& [name, _] : threadPriorities(server_->pid()))
      if (name.rfind("inlet-loop-", 0) == 0) ++n;
    return n;
  };
  startWith(githubConfig(dir_));
  EXPECT_NE(server_->log().find("(" + std::to_string(expected) + " event loops)"),
            std::string::npos)
      << server_->log();
  EXPECT_EQ(loops(), expected);
  server_.reset();
  startWith(githubConfig(dir_, "  threads: 3\n"));
  EXPECT_NE(server_->log().find("(3 event loops)"), std::string::npos) << server_->log();
  EXPECT_EQ(loops(), 3);
}

TEST_F(ServerTest, MetricsShowEachSinksBacklog) {
  // `down` delivers to a port nobody listens on and keeps retrying; `quiet` serves a pipeline
  // that receives nothing; `local` keeps up.
  std::string config =
      baseConfig(dir_) +
      "  down:\n    type: http\n    url: http://127.0.0.1:9/in\n"
      "    retry: { max_attempts: 1000, initial_backoff: 50ms, max_backoff: 50ms }\n"
      "  quiet: { type: sqlite, path: " +
      dir_.str("quiet.db") +
      " }\n"
      "secrets:\n  gh: { value: \"" +
      kSecret +
      "\" }\n"
      "pipelines:\n"
      "  github:\n    path: /webhook/github\n    auth: { provider: github, secrets: [gh] }\n"
      "    sinks: [local, down]\n    table: github_events\n"
      "  other:\n    path: /webhook/other\n    auth: { provider: github, secrets: [gh] }\n"
      "    sinks: [quiet]\n    table: other_events\n";
  startWith(config);
  for (int i = 0; i < 3; ++i) {
    std::string body = "{\"n\":" + std::to_string(i) + "}";
    ASSERT_EQ(post(server_->port(), "/webhook/github", body,
                   signedHeaders(kSecret, body, "b-" + std::to_string(i)))
                  .status,
              200);
  }
  EXPECT_EQ(rows("3\n"), "3\n");
  std::string expected =
      "inlet_sink_backlog{sink=\"down\"} 3\ninlet_sink_backlog{sink=\"local\"} 0\n"
      "inlet_sink_backlog{sink=\"quiet\"} 0\n";
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = http(server_->port(), "GET", "/_inlet/metrics", "").body;
    if (metrics.find(expected) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(metrics.find(expected), std::string::npos) << metrics;
}

TEST_F(ServerTest, AckDeliveredAnswersAfterTheSinkHasTheEvent) {
  startWith(githubConfig(dir_, "", "    ack: delivered\n    ack_timeout: 5s\n"));
  std::string body = R"({"delivered":true})";
  auto r = post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "ad-1"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"delivered\":true"), std::string::npos);
  // No polling: the row must already be there.
  EXPECT_EQ(
      sqlite(dir_.str("inlet.db"), "SELECT json_extract(data,'$.delivered') FROM github_events"),
      "1\n");
}

TEST_F(ServerTest, HostileRequestHeadsAreRefusedAndStoreNothing) {
  startWith(githubConfig(dir_));
  const uint16_t port = server_->port();
  std::string huge =
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(100000, 'a') +
      "\r\nContent-Length: 2\r\n\r\n{}";
  // Every refusal of a malformed head is the JSON error contract, with a stable code.
  auto expectRefusal = [&](const std::string& request, int status, const std::string& code) {
    std::string resp = raw(port, request);
    EXPECT_EQ(statusOf(resp), status) << request.substr(0, 200) << "\n" << resp;
    EXPECT_NE(resp.find("{\"error\":{\"code\":\"" + code + "\""), std::string::npos)
        << request.substr(0, 200) << "\n"
        << resp;
    EXPECT_NE(resp.find("Connection: close"), std::string::npos) << resp;
  };
  expectRefusal(huge, 431, "headers_too_large");
  std::string many = "POST /webhook/github HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 200; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  expectRefusal(many + "Content-Length: 2\r\n\r\n{}", 431, "headers_too_large");
  expectRefusal("GARBAGE\r\n\r\n", 400, "malformed_request");
  expectRefusal("POST /webhook/github HTTP/1.1\nHost: x\n\n", 400, "malformed_request");
  expectRefusal("POST /webhook/github HTTP/2.0\r\nHost: x\r\n\r\n", 505,
                "http_version_not_supported");
  expectRefusal("POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400,
                "bad_content_length");
  expectRefusal(
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
      "\r\n{}",
      400, "bad_content_length");
  // Both framings at once (request smuggling) and unknown codings are refused, not guessed.
  expectRefusal(
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400, "bad_content_length");
  expectRefusal("POST /webhook/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                "unsupported_transfer_encoding");
  expectRefusal("POST /webhook/github HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400,
                "missing_host");
  expectRefusal("POST /webhook/github HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400,
                "malformed_request");
  expectRefusal(
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\n{}", 400,
      "malformed_request");
  expectRefusal(
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
      "bad_chunk");
  expectRefusal("POST /webhook/github HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n", 417,
                "expectation_failed");
  // Non-ASCII and control bytes in the signature header reach the provider and are refused.
  std::string body = "{}";
  std::string odd =
      "POST /webhook/github HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Hub-Signature-256: "
      "sha256=\xff\xfe\x01"
      "\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(statusOf(raw(port, odd)), 400);
  EXPECT_EQ(journalCount(), "0\n");
  // Still serving.
  EXPECT_EQ(
      post(port, "/webhook/github", body, signedHeaders(kSecret, body, "after-hostile")).status,
      200);
}

TEST_F(ServerTest, ExpectContinueIsSentOnlyAfterAdmission) {
  startWith(githubConfig(dir_));
  const uint16_t port = server_->port();
  // Over the limit: 413 at once, never an invitation to send the body.
  std::string refused = raw(port,
                            "POST /webhook/github HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                            "Content-Length: 10000000000\r\n\r\n");
  EXPECT_EQ(statusOf(refused), 413) << refused;
  EXPECT_EQ(refused.find("100 Continue"), std::string::npos) << refused;
  // Admitted: 100 Continue, then the body, then the answer.
  std::string body = "{\"expect\":true}";
  std::string request = signedRequest(body, "expect-1", "Expect: 100-continue\r\n");
  std::string head = request.substr(0, request.size() - body.size());
  Wire wire(port);
  wire.send(head);
  std::string interim = wire.response();
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
  wire.send(body);
  std::string final_response = wire.response();
  EXPECT_EQ(statusOf(final_response), 200) << final_response;
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  startWith(githubConfig(dir_));
  Wire wire(server_->port());
  std::string first = "{\"n\":1}", second = "{\"n\":2}", third = "{\"n\":3}";
  // Three requests in one write, the middle one refused: each gets its own answer, in order.
  wire.send(signedRequest(first, "pipe-1") + signedRequest(second, "pipe-1") +
            signedRequest(third, "pipe-3"));
  std::string a = wire.response(), b = wire.response(), c = wire.response();
  EXPECT_EQ(statusOf(a), 200) << a;
  EXPECT_NE(a.find("\"status\":\"accepted\""), std::string::npos) << a;
  EXPECT_EQ(statusOf(b), 200) << b;
  EXPECT_NE(b.find("\"status\":\"duplicate\""), std::string::npos) << b;
  EXPECT_EQ(statusOf(c), 200) << c;
  EXPECT_NE(c.find("\"status\":\"accepted\""), std::string::npos) << c;
  EXPECT_EQ(journalCount(), "2\n");
}

TEST_F(ServerTest, RequestArrivingByteByByteIsAccepted) {
  startWith(githubConfig(dir_));
  Wire wire(server_->port());
  std::string request = signedRequest("{\"slow\":true}", "slow-1");
  for (size_t i = 0; i < request.size(); i += 7) {
    wire.send(request.substr(i, 7));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string r = wire.response();
  EXPECT_EQ(statusOf(r), 200) << r;
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, IdleConnectionsDoNotHoldTheServer) {
  // One event loop and 500 connections that never send a byte: a signed request still lands.
  startWith(githubConfig(dir_, "  threads: 1\n"));
  std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
  for (int i = 0; i < 500; ++i)
    idle.push_back(std::make_unique<Poco::Net::StreamSocket>(
        Poco::Net::SocketAddress("127.0.0.1", server_->port())));
  std::string body = "{\"idle\":1}";
  EXPECT_EQ(
      post(server_->port(), "/webhook/github", body, signedHeaders(kSecret, body, "idle-1")).status,
      200);
  EXPECT_EQ(journalCount(), "1\n");
}

TEST_F(ServerTest, ConnectionsOverTheLimitAreRefusedWith503) {
  startWith(githubConfig(dir_, "  max_connections: 4\n"));
  std::vector<std::unique_ptr<Wire>> open;
  // Four connections are accepted and served (a slot held by the start-up probe's connection
  // is released once the server has seen it close: retry briefly).
  for (int i = 0, attempts = 0; i < 4 && attempts < 100; ++attempts) {
    auto wire = std::make_unique<Wire>(server_->port());
    wire->send("GET /_inlet/health HTTP/1.1\r\nHost: x\r\n\r\n");
    if (statusOf(wire->response()) == 200) {
      open.push_back(std::move(wire));
      ++i;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_EQ(open.size(), 4u);
  std::string refused = raw(server_->port(), "GET /_inlet/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(statusOf(refused), 503) << refused;
  EXPECT_NE(refused.find("\"code\":\"overloaded\""), std::string::npos) << refused;
  open.pop_back();  // one closes: a new connection is served again
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string r =
        raw(server_->port(), "GET /_inlet/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if (statusOf(r) == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "a freed connection slot was never reused";
}

}  // namespace
