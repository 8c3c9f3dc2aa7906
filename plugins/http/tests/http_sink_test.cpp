#include "http_sink.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>
#include <inlet/testing/tls.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

using inlet::sdk::WriteResult;
using inlet::sinks::HttpSink;
using inlet::testing::TestPki;

namespace {

struct Recorded {
  std::string method, uri, body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// A real HTTP server on 127.0.0.1:<ephemeral> that records every request and answers with the
// status the test queued (200 once the queue is empty), optionally after a delay.
class Downstream {
 public:
  // With `tls`, the server speaks HTTPS with that context's certificate.
  explicit Downstream(int keep_alive_ms = 10'000, Poco::Net::Context::Ptr tls = nullptr)
      : socket_(
            tls ? Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, tls)
                : Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0))),
        scheme_(tls ? "https" : "http") {
    auto params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(keep_alive_ms * 1000));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(this), socket_, params);
    server_->start();
  }
  ~Downstream() { server_->stopAll(true); }

  std::string url(const std::string& path = "/hook?x=1",
                  const std::string& host = "127.0.0.1") const {
    return scheme_ + "://" + host + ":" + std::to_string(socket_.address().port()) + path;
  }
  void answer(int status) {
    std::lock_guard lock(mu_);
    statuses_.push_back(status);
  }
  void delayMs(int ms) { delay_ms_ = ms; }
  std::vector<Recorded> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Downstream* d) : d_(d) {}
    void handleRequest(Poco::Net::HTTPServerRequest& req,
                       Poco::Net::HTTPServerResponse& resp) override {
      Recorded r;
      r.method = req.getMethod();
      r.uri = req.getURI();
      for (const auto& [name, value] : req) {
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[lower] = value;
      }
      Poco::StreamCopier::copyToString(req.stream(), r.body);
      int status = 200;
      {
        std::lock_guard lock(d_->mu_);
        d_->requests_.push_back(r);
        if (!d_->statuses_.empty()) {
          status = d_->statuses_.front();
          d_->statuses_.pop_front();
        }
      }
      if (int ms = d_->delay_ms_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
      std::string body = status == 200 ? "ok" : "nope";
      resp.setContentLength(static_cast<std::streamsize>(body.size()));
      resp.send() << body;
    }

   private:
    Downstream* d_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Downstream* d) : d_(d) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(d_);
    }

   private:
    Downstream* d_;
  };

  Poco::Net::ServerSocket socket_;
  std::string scheme_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::mutex mu_;
  std::deque<int> statuses_;
  std::vector<Recorded> requests_;
  std::atomic<int> delay_ms_{0};
};

inlet::sdk::Event event(std::string_view id, std::string_view dedup_key, std::string_view body) {
  inlet::sdk::Event e;
  e.id = id;
  e.pipeline = "stripe";
  e.table = "stripe_events";
  e.provider = "stripe";
  e.event_type = "charge.succeeded";
  e.delivery_id = "evt_1";
  e.dedup_key = dedup_key;
  e.headers_json = R"({"content-type":"application/json; charset=utf-8","stripe-signature":"t=1"})";
  e.body = body;
  e.data_json = body;
  e.columns_json = "{}";
  return e;
}

HttpSink make(const std::string& url, int64_t timeout_ms = 2000) {
  HttpSink::Options o;
  o.url = url;
  o.timeout_ms = timeout_ms;
  o.headers["Authorization"] = "Bearer downstream-token";
  return HttpSink(o, inlet::sdk::Host());
}

TEST(HttpSink, ForwardsBodyAndHeaders) {
  Downstream d;
  auto sink = make(d.url());
  std::string error;
  std::vector<inlet::sdk::Event> batch = {event("id-1", "stripe:evt_1", R"({"a":1})"),
                                          event("id-2", "", R"({"b":2})")};
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok) << error;
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].uri, "/hook?x=1");
  EXPECT_EQ(reqs[0].body, R"({"a":1})");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/json; charset=utf-8");
  EXPECT_EQ(reqs[0].headers["x-inlet-event-id"], "id-1");
  EXPECT_EQ(reqs[0].headers["x-inlet-pipeline"], "stripe");
  EXPECT_EQ(reqs[0].headers["x-inlet-event-type"], "charge.succeeded");
  EXPECT_EQ(reqs[0].headers["idempotency-key"], "stripe:evt_1");
  EXPECT_EQ(reqs[0].headers["authorization"], "Bearer downstream-token");
  EXPECT_EQ(reqs[0].headers.count("stripe-signature"), 0u);  // provider headers stay behind
  // No dedup key: the event id is the idempotency key.
  EXPECT_EQ(reqs[1].headers["idempotency-key"], "id-2");
  EXPECT_EQ(reqs[1].body, R"({"b":2})");
}

TEST(HttpSink, BinaryBodyIsSentVerbatim) {
  Downstream d;
  auto sink = make(d.url("/"));
  std::string body("\x00\x01\xff\r\n", 5);
  auto e = event("id-1", "", body);
  e.data_json = "";
  e.headers_json = "{}";
  std::string error;
  ASSERT_EQ(sink.write({e}, error), WriteResult::Ok) << error;
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].body, body);
  EXPECT_EQ(reqs[0].headers["content-type"], "application/octet-stream");
}

TEST(HttpSink, ServerErrorIsRetryAndResendCarriesSameKeys) {
  Downstream d;
  auto sink = make(d.url());
  std::vector<inlet::sdk::Event> batch = {event("id-1", "k1", "{}"), event("id-2", "k2", "{}"),
                                          event("id-3", "k3", "{}")};
  d.answer(200);
  d.answer(500);
  std::string error;
  EXPECT_EQ(sink.write(batch, error), WriteResult::Retry);
  EXPECT_NE(error.find("500"), std::string::npos) << error;
  EXPECT_EQ(d.requests().size(), 2u);  // stopped at the failure
  error.clear();
  ASSERT_EQ(sink.write(batch, error), WriteResult::Ok) << error;
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].headers["idempotency-key"], "k1");
  EXPECT_EQ(reqs[2].headers["idempotency-key"], "k1");  // the re-send is recognisable
  EXPECT_EQ(reqs[4].headers["idempotency-key"], "k3");
}

TEST(HttpSink, ClientErrorIsDropExcept408And429) {
  Downstream d;
  auto sink = make(d.url());
  std::string error;
  d.answer(400);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Drop);
  EXPECT_NE(error.find("400"), std::string::npos) << error;
  d.answer(404);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Drop);
  d.answer(408);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  d.answer(429);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  d.answer(503);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  d.answer(204);
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Ok);
}

TEST(HttpSink, Classification) {
  EXPECT_EQ(HttpSink::classify(200), WriteResult::Ok);
  EXPECT_EQ(HttpSink::classify(299), WriteResult::Ok);
  EXPECT_EQ(HttpSink::classify(302), WriteResult::Drop);
  EXPECT_EQ(HttpSink::classify(400), WriteResult::Drop);
  EXPECT_EQ(HttpSink::classify(401), WriteResult::Drop);
  EXPECT_EQ(HttpSink::classify(408), WriteResult::Retry);
  EXPECT_EQ(HttpSink::classify(413), WriteResult::Drop);
  EXPECT_EQ(HttpSink::classify(429), WriteResult::Retry);
  EXPECT_EQ(HttpSink::classify(500), WriteResult::Retry);
  EXPECT_EQ(HttpSink::classify(599), WriteResult::Retry);
}

TEST(HttpSink, SlowServerIsRetry) {
  Downstream d;
  auto sink = make(d.url(), /*timeout_ms=*/300);
  d.delayMs(1500);
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  EXPECT_NE(error.find("timeout"), std::string::npos) << error;
  d.delayMs(0);
  // The next call opens a fresh connection and succeeds.
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  error.clear();
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Ok) << error;
}

TEST(HttpSink, ConnectionRefusedIsRetry) {
  uint16_t port;
  {
    Poco::Net::ServerSocket s(Poco::Net::SocketAddress("127.0.0.1", 0));
    port = s.address().port();
  }  // closed: nothing listens there now
  auto sink = make("http://127.0.0.1:" + std::to_string(port) + "/");
  std::string error;
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  EXPECT_FALSE(error.empty());
}

TEST(HttpSink, StaleKeepAliveConnectionIsReopened) {
  Downstream d(/*keep_alive_ms=*/100);  // the server drops idle connections quickly
  auto sink = make(d.url());
  std::string error;
  ASSERT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Ok) << error;
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(sink.write({event("id-2", "", "{}")}, error), WriteResult::Ok) << error;
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].headers["x-inlet-event-id"], "id-2");
}

HttpSink makeTls(const std::string& url, const std::string& ca_file) {
  HttpSink::Options o;
  o.url = url;
  o.ca_file = ca_file;
  o.timeout_ms = 5000;
  return HttpSink(o, inlet::sdk::Host());
}

TEST(HttpSink, HttpsDeliversToAServerTheCaVouchesFor) {
  TestPki pki({"localhost", "elsewhere.invalid"});
  Downstream d(10'000, pki.serverContext("localhost"));
  auto sink = makeTls(d.url("/hook?x=1", "localhost"), pki.caFile());
  std::string error;
  ASSERT_EQ(sink.write({event("id-1", "stripe:evt_1", R"({"a":1})"),
                        event("id-2", "stripe:evt_2", R"({"b":2})")},
                       error),
            WriteResult::Ok)
      << error;
  auto reqs = d.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, R"({"a":1})");
  EXPECT_EQ(reqs[0].uri, "/hook?x=1");
  EXPECT_EQ(reqs[1].headers["idempotency-key"], "stripe:evt_2");
}

TEST(HttpSink, HttpsRefusesAnUntrustedOrMisnamedCertificate) {
  TestPki pki({"localhost", "elsewhere.invalid"});
  std::string error;
  {
    // Signed by a CA the sink was not told to trust (and not in the system store either).
    Downstream d(10'000, pki.serverContext("localhost"));
    auto sink = makeTls(d.url("/", "localhost"), pki.otherCaFile());
    EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
    EXPECT_NE(error.find("cannot deliver"), std::string::npos) << error;
    auto system_only = makeTls(d.url("/", "localhost"), "");
    error.clear();
    EXPECT_EQ(system_only.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(d.requests().empty());
  }
  {
    // A trusted CA, but the certificate names another host: loopback is not exempt.
    Downstream d(10'000, pki.serverContext("elsewhere.invalid"));
    auto sink = makeTls(d.url("/", "localhost"), pki.caFile());
    error.clear();
    EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(d.requests().empty());
  }
}

TEST(HttpSink, PlainHttpServerBehindAnHttpsUrlIsRetry) {
  TestPki pki({"localhost", "elsewhere.invalid"});
  Downstream d;  // plain HTTP
  auto sink = makeTls(d.url("/", "localhost").replace(0, 4, "https"), pki.caFile());
  std::string error;
  EXPECT_EQ(sink.write({event("id-1", "", "{}")}, error), WriteResult::Retry);
  EXPECT_FALSE(error.empty());
}

TEST(HttpSink, CreateValidatesOptions) {
  inlet::sdk::Host host;
  using inlet::sdk::Config;
  EXPECT_THROW(HttpSink::create(Config::parse("{}"), {}, host), std::invalid_argument);
  EXPECT_THROW(
      HttpSink::create(Config::parse(R"({"url":"https://example.com/","ca_file":"/no/such.pem"})"),
                       {}, host),
      std::invalid_argument);
  EXPECT_THROW(HttpSink::create(
                   Config::parse(R"({"url":"http://example.com/","ca_file":"/x.pem"})"), {}, host),
               std::invalid_argument);
  EXPECT_TRUE(HttpSink::create(Config::parse(R"({"url":"https://example.com/"})"), {}, host));
  EXPECT_THROW(HttpSink::create(Config::parse(R"({"url":"ftp://x/"})"), {}, host),
               std::invalid_argument);
  auto ok = HttpSink::create(
      Config::parse(R"({"url":"http://127.0.0.1:9/x","timeout":"2s","headers":{"A":"b"}})"), {},
      host);
  EXPECT_TRUE(ok);
}

}  // namespace
