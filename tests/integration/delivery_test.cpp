// Delivery from the journal to real downstream systems, under faults: a PostgreSQL server the
// test starts and stops, kill -9 of Inlet mid-delivery, two instances sharing one database, a
// downstream HTTP service that refuses events (dead letters, replay), an HTTPS receiver whose
// certificate the sink must verify, and Kafka's wire protocol (librdkafka's mock cluster).
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <gtest/gtest.h>
#include <inlet/testing/kafka.h>
#include <inlet/testing/postgres.h>
#include <inlet/testing/server.h>
#include <inlet/testing/tls.h>

#include <atomic>
#include <mutex>
#include <set>

using namespace inlet::testing;

namespace {

const std::string kSecret = "delivery-secret";

std::string pgConfig(const TempDir& dir, const PostgresServer& pg,
                     const std::string& pipeline_extra = "",
                     const std::string& sink_extra = "    batch_size: 20\n") {
  return baseConfig(dir) + "  pg:\n    type: postgres\n    conninfo: \"" + pg.conninfo() + "\"\n" +
         sink_extra +
         "    retry: { max_attempts: 100000, initial_backoff: 50ms, "
         "max_backoff: 300ms }\n"
         "secrets:\n  gh: { value: " +
         kSecret +
         " }\n"
         "pipelines:\n  github:\n    path: /webhook/github\n    auth: { provider: github, secrets: "
         "[gh] }\n"
         "    dedup: { key: auto }\n    sinks: [pg]\n    table: github_events\n"
         "    columns: [ { name: n, type: integer, pointer: /n } ]\n" +
         pipeline_extra;
}

HttpResponse send(uint16_t port, int n, const std::string& delivery) {
  std::string body = "{\"n\":" + std::to_string(n) + "}";
  return post(port, "/webhook/github", body,
              {{"X-Hub-Signature-256", githubSignature(kSecret, body)},
               {"X-GitHub-Delivery", delivery},
               {"X-GitHub-Event", "push"}});
}

std::string waitForScalar(const PostgresServer& pg, const std::string& sql,
                          const std::string& expected, int timeout_ms = 30000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last;
  for (;;) {
    try {
      last = pg.scalar(sql);
    } catch (const std::exception& e) {
      last = std::string("error: ") + e.what();
    }
    if (last == expected || std::chrono::steady_clock::now() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

const char* kRowsAndDistinct =
    "SELECT count(*) || '/' || count(DISTINCT delivery_id) || '/' || count(DISTINCT id) FROM "
    "github_events";

TEST(Postgres, OutageKeepsAcceptingAndEveryEventArrivesExactlyOnce) {
  PostgresServer pg;
  TempDir dir;
  InletServer inlet(dir, pgConfig(dir, pg));
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(send(inlet.port(), i, "a-" + std::to_string(i)).status, 200);
  EXPECT_EQ(waitForScalar(pg, kRowsAndDistinct, "20/20/20"), "20/20/20");

  pg.stop();
  for (int i = 20; i < 50; ++i) {
    auto r = send(inlet.port(), i, "a-" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << "the journal, not PostgreSQL, is the ack point: " << r.body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // several failed delivery attempts
  pg.start();
  EXPECT_EQ(waitForScalar(pg, kRowsAndDistinct, "50/50/50"), "50/50/50");
  EXPECT_EQ(pg.scalar("SELECT sum(n) FROM github_events"), std::to_string(49 * 50 / 2));
}

TEST(Postgres, Kill9MidDeliveryLosesAndDuplicatesNothing) {
  PostgresServer pg;
  TempDir dir;
  InletServer inlet(dir, pgConfig(dir, pg));
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::mutex m;
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int i = 0; !stop && i < 5000; ++i) {
        std::string d = "k-" + std::to_string(t) + "-" + std::to_string(i);
        try {
          if (send(inlet.port(), i, d).status == 200) {
            std::lock_guard<std::mutex> lock(m);
            acked.insert(d);
          }
        } catch (...) {
          return;
        }
      }
    });
  // Let delivery get going, then kill the process while it is delivering.
  waitForScalar(pg, "SELECT count(*) > 40 FROM github_events", "t", 20000);
  inlet.kill(SIGKILL);
  stop = true;
  for (auto& s : senders) s.join();
  ASSERT_GT(acked.size(), 40u);
  ASSERT_TRUE(inlet.start(&error)) << error;
  std::string n = std::to_string(acked.size());
  std::string expected = n + "/" + n + "/" + n;
  // Every acknowledged event arrives; re-sent batches (the cursor lagged the crash) are absorbed.
  std::string all = sqlite(dir.str("journal.db"), "SELECT count(*) FROM events");
  all.pop_back();
  EXPECT_EQ(waitForScalar(pg, kRowsAndDistinct, all + "/" + all + "/" + all),
            all + "/" + all + "/" + all);
  EXPECT_GE(std::stoul(all), acked.size());
  for (const auto& d : acked)
    ASSERT_EQ(pg.scalar("SELECT count(*) FROM github_events WHERE delivery_id = '" + d + "'"), "1")
        << d;
}

TEST(Postgres, TwoInstancesSharingOneDatabaseStoreADeliveryOnce) {
  PostgresServer pg;
  TempDir a_dir, b_dir;
  InletServer a(a_dir, pgConfig(a_dir, pg)), b(b_dir, pgConfig(b_dir, pg));
  std::string error;
  ASSERT_TRUE(a.start(&error)) << error;
  ASSERT_TRUE(b.start(&error)) << error;
  ASSERT_NE(a.port(), b.port());
  // The provider retries the same delivery against another instance behind the load balancer.
  EXPECT_EQ(send(a.port(), 1, "shared-1").status, 200);
  EXPECT_EQ(send(b.port(), 1, "shared-1").status, 200);
  EXPECT_EQ(send(b.port(), 2, "shared-2").status, 200);
  EXPECT_EQ(waitForScalar(pg, "SELECT count(*) FROM github_events", "2"), "2");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM github_events WHERE delivery_id = 'shared-1'"), "1");
  // Both instances journaled it and both delivered it (cursors moved): nothing is stuck.
  EXPECT_EQ(sqlite(a_dir.str("journal.db"), "SELECT count(*) FROM dead_letters"), "0\n");
  EXPECT_EQ(sqlite(b_dir.str("journal.db"), "SELECT count(*) FROM dead_letters"), "0\n");
}

TEST(Postgres, AckDeliveredWaitsForTheDatabaseOrAnswers202) {
  PostgresServer pg;
  TempDir dir;
  InletServer inlet(dir, pgConfig(dir, pg, "    ack: delivered\n    ack_timeout: 1s\n"));
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  auto r = send(inlet.port(), 1, "ad-1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM github_events"), "1");  // already there, no polling
  pg.stop();
  auto late = send(inlet.port(), 2, "ad-2");
  EXPECT_EQ(late.status, 202) << late.body;
  EXPECT_NE(late.body.find("\"delivered\":false"), std::string::npos);
  pg.start();
  EXPECT_EQ(waitForScalar(pg, "SELECT count(*) FROM github_events", "2"), "2");
}

TEST(Postgres, BatchWaitGathersEventsIntoOneTransactionAndEndsWhenTheBatchIsFull) {
  PostgresServer pg;
  TempDir dir;
  InletServer inlet(dir, pgConfig(dir, pg, "", "    batch_size: 9\n    batch_wait: 10s\n"));
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  // An idle sink writes the first event at once...
  ASSERT_EQ(send(inlet.port(), 0, "bw-0").status, 200);
  EXPECT_EQ(waitForScalar(pg, "SELECT count(*) FROM github_events", "1", 5000), "1");
  // ...then waits for more: nine requests sent one after another (each acknowledged before the
  // next) land in one transaction, written as soon as they fill a batch, long before 10 s.
  for (int i = 1; i <= 9; ++i)
    ASSERT_EQ(send(inlet.port(), i, "bw-" + std::to_string(i)).status, 200);
  EXPECT_EQ(waitForScalar(pg, "SELECT count(*) FROM github_events", "10", 5000), "10");
  EXPECT_EQ(pg.scalar("SELECT count(DISTINCT xmin::text) FROM github_events WHERE n >= 1"), "1");
  EXPECT_EQ(pg.scalar("SELECT count(DISTINCT xmin::text) FROM github_events"), "2");
}

TEST(Postgres, AckDeliveredIsNotHeldByBatchWait) {
  PostgresServer pg;
  TempDir dir;
  InletServer inlet(dir, pgConfig(dir, pg, "    ack: delivered\n    ack_timeout: 5s\n",
                                  "    batch_size: 20\n    batch_wait: 10s\n"));
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  ASSERT_EQ(send(inlet.port(), 0, "ab-0").status, 200);  // the sink now waits for more...
  auto started = std::chrono::steady_clock::now();
  auto r = send(inlet.port(), 1, "ab-1");  // ...but not while a request waits for delivery
  auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(pg.scalar("SELECT count(*) FROM github_events"), "2");
  EXPECT_LT(waited, std::chrono::seconds(4));  // well before batch_wait or ack_timeout ran out
}

// A downstream service whose answer the test controls; HTTPS with `tls`.
class Downstream {
 public:
  explicit Downstream(Poco::Net::Context::Ptr tls = nullptr) {
    Poco::Net::SocketAddress any("127.0.0.1", 0);
    Poco::Net::ServerSocket socket =
        tls ? Poco::Net::SecureServerSocket(any, 64, tls) : Poco::Net::ServerSocket(any);
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket,
                                                      new Poco::Net::HTTPServerParams);
    server_->start();
  }
  ~Downstream() { server_->stopAll(true); }
  std::atomic<int> status{200};
  uint16_t port() const { return port_; }
  std::vector<std::string> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  struct Handler : Poco::Net::HTTPRequestHandler {
    explicit Handler(Downstream& d) : d_(d) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override {
      std::string body;
      Poco::StreamCopier::copyToString(req.stream(), body);
      int status = d_.status.load();
      if (status < 300) {
        std::lock_guard<std::mutex> lock(d_.mutex_);
        d_.bodies_.push_back(body);
      }
      resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
      resp.sendBuffer("", 0);
    }
    Downstream& d_;
  };
  struct Factory : Poco::Net::HTTPRequestHandlerFactory {
    explicit Factory(Downstream& d) : d_(d) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(d_);
    }
    Downstream& d_;
  };
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

TEST(Http, RefusedEventsGoToDeadLettersAndReplayRedrivesThem) {
  Downstream down;
  down.status = 400;
  TempDir dir;
  std::string cfg =
      baseConfig(dir) +
      "  out:\n    type: http\n    url: http://127.0.0.1:" + std::to_string(down.port()) +
      "/in\n    retry: { max_attempts: 3, initial_backoff: 20ms, max_backoff: 50ms }\n"
      "secrets:\n  gh: { value: " +
      kSecret +
      " }\n"
      "pipelines:\n  github:\n    path: /webhook/github\n    auth: { provider: github, secrets: "
      "[gh] }\n"
      "    dedup: { key: auto }\n    sinks: [out]\n";
  InletServer inlet(dir, cfg);
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(send(inlet.port(), i, "dl-" + std::to_string(i)).status, 200);
  EXPECT_EQ(waitForQuery(dir.str("journal.db"),
                         "SELECT count(*) FROM dead_letters WHERE sink = 'out'", "3\n"),
            "3\n");
  EXPECT_TRUE(down.received().empty());

  down.status = 200;
  auto r = runInlet({"replay", "-c", dir.str("inlet.yaml"), "--sink", "out", "--dead-letters"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("replayed 3 event(s) to out"), std::string::npos) << r.out;
  EXPECT_EQ(down.received().size(), 3u);
  EXPECT_EQ(sqlite(dir.str("journal.db"), "SELECT count(*) FROM dead_letters"), "0\n");
  // New events flow normally again.
  ASSERT_EQ(send(inlet.port(), 9, "dl-9").status, 200);
  for (int i = 0; i < 200 && down.received().size() < 4; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_EQ(down.received().size(), 4u);
}

TEST(Http, TransientFailuresAreRetriedUntilTheServiceRecovers) {
  Downstream down;
  down.status = 503;
  TempDir dir;
  std::string cfg =
      baseConfig(dir) +
      "  out:\n    type: http\n    url: http://127.0.0.1:" + std::to_string(down.port()) +
      "/in\n    retry: { max_attempts: 1000, initial_backoff: 20ms, max_backoff: 100ms }\n"
      "secrets:\n  gh: { value: " +
      kSecret +
      " }\n"
      "pipelines:\n  github:\n    auth: { provider: github, secrets: [gh] }\n    sinks: [out]\n";
  InletServer inlet(dir, cfg);
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  ASSERT_EQ(send(inlet.port(), 1, "tr-1").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(down.received().empty());
  down.status = 200;
  for (int i = 0; i < 200 && down.received().empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_EQ(down.received().size(), 1u);
  EXPECT_EQ(down.received()[0], "{\"n\":1}");
  EXPECT_EQ(sqlite(dir.str("journal.db"), "SELECT count(*) FROM dead_letters"), "0\n");
}

std::string httpsSinkConfig(const TempDir& dir, uint16_t port, const std::string& ca_file) {
  return baseConfig(dir) +
         "  out:\n    type: http\n    url: https://localhost:" + std::to_string(port) +
         "/in\n    ca_file: " + ca_file +
         "\n    retry: { max_attempts: 2, initial_backoff: 20ms, max_backoff: 50ms }\n"
         "secrets:\n  gh: { value: " +
         kSecret +
         " }\n"
         "pipelines:\n  github:\n    auth: { provider: github, secrets: [gh] }\n    sinks: [out]\n";
}

TEST(Http, HttpsSinkDeliversOnlyToAVerifiedReceiver) {
  TestPki pki({"localhost"});
  Downstream down(pki.serverContext("localhost"));
  {
    TempDir dir;
    InletServer inlet(dir, httpsSinkConfig(dir, down.port(), pki.caFile()));
    std::string error;
    ASSERT_TRUE(inlet.start(&error)) << error;
    ASSERT_EQ(send(inlet.port(), 1, "tls-1").status, 200);
    ASSERT_EQ(send(inlet.port(), 2, "tls-2").status, 200);
    for (int i = 0; i < 400 && down.received().size() < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_EQ(down.received().size(), 2u);
    EXPECT_EQ(down.received()[0], "{\"n\":1}");
    EXPECT_EQ(down.received()[1], "{\"n\":2}");
  }
  {
    // The same receiver, but the sink trusts another CA: nothing is sent in clear or to an
    // unverified peer; the events end in dead letters, still in the journal for a replay.
    TempDir dir;
    InletServer inlet(dir, httpsSinkConfig(dir, down.port(), pki.otherCaFile()));
    std::string error;
    ASSERT_TRUE(inlet.start(&error)) << error;
    ASSERT_EQ(send(inlet.port(), 3, "tls-3").status, 200);
    EXPECT_EQ(waitForQuery(dir.str("journal.db"),
                           "SELECT count(*) FROM dead_letters WHERE sink = 'out' AND error LIKE "
                           "'%certificate verify failed%'",
                           "1\n"),
              "1\n");
    EXPECT_EQ(down.received().size(), 2u);
  }
}

TEST(Kafka, EventsReachTheTopicKeyedByTheDedupKey) {
  MockCluster mock;
  mock.createTopic("inlet.github");
  TempDir dir;
  std::string cfg = baseConfig(dir) + "  bus:\n    type: kafka\n    brokers: \"" +
                    mock.bootstraps() +
                    "\"\n    topic: \"inlet.{pipeline}\"\n"
                    "secrets:\n  gh: { value: " +
                    kSecret +
                    " }\n"
                    "pipelines:\n  github:\n    auth: { provider: github, secrets: [gh] }\n    "
                    "dedup: { key: auto }\n"
                    "    sinks: [bus, local]\n";
  InletServer inlet(dir, cfg);
  std::string error;
  ASSERT_TRUE(inlet.start(&error)) << error;
  ASSERT_EQ(send(inlet.port(), 1, "kf-1").status, 200);
  ASSERT_EQ(send(inlet.port(), 2, "kf-2").status, 200);
  auto msgs = consume(mock.bootstraps(), "inlet.github", 2);
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].key, "kf-1");
  EXPECT_EQ(msgs[0].value, "{\"n\":1}");
  EXPECT_EQ(msgs[1].key, "kf-2");
  // The same pipeline also fed the embedded store: several sinks per pipeline.
  EXPECT_EQ(waitForQuery(dir.str("inlet.db"), "SELECT count(*) FROM github", "2\n"), "2\n");
}

}  // namespace
