#include "server/server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Timespan.h>

#include <chrono>
#include <thread>

#include "util/ids.h"
#include "util/json.h"
#include "util/log.h"

namespace inlet::server {

using pipeline::errorOutcome;
using pipeline::Outcome;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

namespace {

void send(HTTPServerResponse& resp, const Outcome& o, bool close = false) {
  resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(o.status));
  resp.setContentType(o.content_type);
  if (o.retry_after) resp.set("Retry-After", "1");
  if (close) resp.setKeepAlive(false);
  // sendBuffer sets Content-Length, which keeps the connection alive for the next request.
  resp.sendBuffer(o.body.data(), o.body.size());
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Shared& shared) : shared_(shared) {}

  void handleRequest(HTTPServerRequest& req, HTTPServerResponse& resp) override {
    // Poco's connection loop only catches Poco::Exception: anything else would end the thread's
    // connection without an answer, so every exception is turned into a JSON 500 here.
    ++shared_.in_flight;
    try {
      handle(req, resp);
    } catch (const Poco::TimeoutException&) {
      if (!resp.sent())
        send(resp, errorOutcome(408, "request_timeout", "the request body did not arrive in time"),
             true);
    } catch (const std::exception& e) {
      log::error(std::string("request failed: ") + e.what());
      if (!resp.sent()) send(resp, errorOutcome(500, "internal_error", "internal error"), true);
    } catch (...) {
      if (!resp.sent()) send(resp, errorOutcome(500, "internal_error", "internal error"), true);
    }
    --shared_.in_flight;
  }

 private:
  void handle(HTTPServerRequest& req, HTTPServerResponse& resp) {
    ++shared_.requests;
    const int64_t received_ms = util::nowMs();
    const std::string& target = req.getURI();
    std::string path = target.substr(0, target.find('?'));
    auto& rt = shared_.runtime;

    if (path.rfind("/_inlet/", 0) == 0) return internal(path, req, resp);

    auto it = rt.by_path.find(path);
    if (it == rt.by_path.end())
      return send(resp, errorOutcome(404, "unknown_pipeline", "no pipeline at this path"), true);
    pipeline::Pipeline& p = *it->second;
    const auto& cfg = p.config();

    auto reject = [&](const Outcome& o, bool close = true) {
      p.count(o.code);
      send(resp, o, close);
    };
    if (!p.methodAllowed(req.getMethod())) {
      std::string allow;
      for (const auto& m : cfg.methods) allow += (allow.empty() ? "" : ", ") + m;
      resp.set("Allow", allow);
      return reject(errorOutcome(405, "method_not_allowed",
                                 "method " + req.getMethod() + " is not allowed here"));
    }
    const Poco::Net::SocketAddress peer = req.clientAddress();  // one getpeername per request
    if (!p.ipAllowed(peer.host().toString()))
      return reject(errorOutcome(403, "ip_not_allowed", "source address not allowed"));
    if (!p.takeToken()) return reject(errorOutcome(429, "rate_limited", "rate limit exceeded"));
    if (shared_.in_flight.load() > rt.config.server.max_inflight)
      return reject(errorOutcome(503, "overloaded", "too many requests in flight"));

    // Body: the limit is decided from Content-Length before reading, and enforced while reading
    // a chunked body.
    const int64_t limit =
        cfg.max_body_bytes > 0 ? cfg.max_body_bytes : rt.config.server.max_body_bytes;
    std::string body;
    if (req.hasContentLength()) {
      auto declared = req.getContentLength64();
      if (declared > limit)
        return reject(errorOutcome(413, "body_too_large",
                                   "body exceeds " + std::to_string(limit) + " bytes"));
      body.resize(static_cast<size_t>(declared));
      req.stream().read(body.data(), declared);
      if (req.stream().gcount() != declared)
        return reject(
            errorOutcome(400, "incomplete_body", "the body ended before Content-Length bytes"));
    } else if (req.getChunkedTransferEncoding()) {
      char buf[16384];
      auto& in = req.stream();
      while (in) {
        in.read(buf, sizeof buf);
        auto n = in.gcount();
        if (n <= 0) break;
        if (static_cast<int64_t>(body.size()) + n > limit)
          return reject(errorOutcome(413, "body_too_large",
                                     "body exceeds " + std::to_string(limit) + " bytes"));
        body.append(buf, static_cast<size_t>(n));
      }
    }

    pipeline::Request r;
    r.method = req.getMethod();
    r.target = target;
    r.remote_addr = peer.toString();
    r.received_ms = received_ms;
    r.headers.reserve(req.size());
    for (const auto& [name, value] : req) r.headers.emplace_back(lower(name), value);
    r.url = !cfg.public_url.empty() ? cfg.public_url + target : "http://" + req.getHost() + target;
    r.body = std::move(body);

    inlet_auth_result verdict = p.verify(r);
    if (verdict.verdict == INLET_REJECT) {
      // Only the stable code and the provider's message reach the sender; `detail` (expected
      // signatures) stays in `inlet verify`.
      return reject(errorOutcome(verdict.http_status, verdict.code, verdict.message), false);
    }
    if (verdict.verdict == INLET_RESPOND) {
      p.count("responded");
      Outcome o;
      o.content_type =
          verdict.response_content_type[0] ? verdict.response_content_type : "text/plain";
      o.body = verdict.response_body;
      return send(resp, o);
    }

    auto prepared = p.prepare(r, verdict);
    if (!prepared.ok) return reject(prepared.error, false);

    size_t count = prepared.events.size();
    auto result = shared_.journal.append(cfg.name, prepared.claim_key, cfg.dedup.window_ms,
                                         std::move(prepared.events));
    Outcome o;
    switch (result.status) {
      case journal::AppendResult::Status::Failed:
        return reject(
            errorOutcome(503, "storage_unavailable", "the event could not be made durable"), false);
      case journal::AppendResult::Status::Duplicate:
        p.count("duplicate");
        o.body = "{\"status\":\"duplicate\",\"id\":" + util::jsonString(result.event_id) + "}";
        return send(resp, o);
      case journal::AppendResult::Status::Accepted:
        break;
    }
    p.count("accepted");
    std::string extra = count > 1 ? ",\"count\":" + std::to_string(count) : "";
    if (cfg.ack == config::PipelineConfig::Ack::Delivered && shared_.delivery &&
        !cfg.sinks.empty()) {
      bool delivered =
          shared_.delivery->waitDelivered(cfg.sinks, result.last_seq, cfg.ack_timeout_ms);
      if (!delivered) {
        // Durable in the journal and still delivered later: 202, never an error the provider
        // would retry into a duplicate.
        o.status = 202;
        extra += ",\"delivered\":false";
      } else {
        extra += ",\"delivered\":true";
      }
    }
    o.body = "{\"status\":\"accepted\",\"id\":" + util::jsonString(result.event_id) + extra + "}";
    send(resp, o);
  }

  void internal(const std::string& path, HTTPServerRequest& req, HTTPServerResponse& resp) {
    Outcome o;
    if (path == "/_inlet/health") {
      o.body = "{\"status\":\"ok\"}";
    } else if (path == "/_inlet/metrics") {
      o.content_type = "text/plain; version=0.0.4";
      std::string m = "# TYPE inlet_requests_total counter\n";
      for (const auto& p : shared_.runtime.pipelines)
        for (const auto& [code, n] : p->counters())
          m += "inlet_requests_total{pipeline=\"" + p->config().name + "\",outcome=\"" + code +
               "\"} " + std::to_string(n) + "\n";
      m += "# TYPE inlet_journal_pending gauge\ninlet_journal_pending " +
           std::to_string(shared_.journal.pending()) + "\n";
      o.body = m;
    } else {
      return send(resp, errorOutcome(404, "unknown_pipeline", "no pipeline at this path"), true);
    }
    send(resp, o);
  }

  Shared& shared_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(Shared& shared) : shared_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
    return new Handler(shared_);
  }

 private:
  Shared& shared_;
};

}  // namespace

Server::Server(pipeline::Runtime& runtime, journal::Journal& journal, delivery::Delivery* delivery)
    : shared_(runtime, journal, delivery) {}

Server::~Server() {
  if (http_) stop();
}

void Server::start() {
  const auto& sc = shared_.runtime.config.server;
  Poco::Net::ServerSocket socket;
  try {
    Poco::Net::SocketAddress addr(sc.listen);
    socket.bind(addr, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(1024);
    // Accepted sockets inherit TCP_NODELAY on Linux. Poco writes a response's header and body
    // in two sends; with Nagle on, the body waits for the peer's (delayed) ACK of the header.
    socket.setNoDelay(true);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot listen on " + sc.listen + ": " + e.displayText());
  }
  port_ = socket.address().port();
  auto* params = new Poco::Net::HTTPServerParams;
  // Poco serves one connection per thread for its whole keep-alive life. Enough threads for
  // the expected connections, a deep queue instead of silent drops, and a cap on requests per
  // connection so queued connections get a thread in turn: no connection starves.
  params->setMaxThreads(sc.threads);
  params->setMaxQueued(sc.max_queued);
  params->setTimeout(Poco::Timespan(sc.read_timeout_ms * 1000));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(sc.keepalive_timeout_ms * 1000));
  params->setMaxKeepAliveRequests(sc.max_keepalive_requests);
  params->setServerName("inlet");
  pool_ = std::make_unique<Poco::ThreadPool>(std::min(16, sc.threads), sc.threads, 60, 1024 * 1024);
  http_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(shared_), *pool_, socket, params);
  http_->start();
}

void Server::stop() {
  if (!http_) return;
  http_->stop();  // closes the listening socket; running requests continue
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(shared_.runtime.config.server.shutdown_grace_ms);
  while (shared_.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  http_->stopAll(true);  // idle keep-alive connections
  pool_->joinAll();
  http_.reset();
}

uint16_t Server::port() const { return port_; }

}  // namespace inlet::server
