#include "server/handler.h"

#include <algorithm>
#include <chrono>

#include "util/json.h"
#include "util/log.h"

namespace inlet::server {

using pipeline::errorOutcome;
using pipeline::Outcome;

Reply toReply(const Outcome& o, bool close) {
  Reply r;
  r.status = o.status;
  r.content_type = o.content_type;
  r.body = o.body;
  if (o.retry_after) r.headers.emplace_back("Retry-After", "1");
  r.close = close;
  return r;
}

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A later answer (after the journal, or the delivery `ack: delivered` waits for), counted in the
// pipeline's durations.
void answerLater(pipeline::Pipeline& p, std::chrono::steady_clock::time_point started,
                 const std::function<void(Reply&&)>& done, Reply&& reply) {
  p.durations().observe(secondsSince(started));
  done(std::move(reply));
}

}  // namespace

Reply Handler::refusal(int status, const std::string& code, const std::string& message) {
  return toReply(errorOutcome(status, code, message), /*close=*/true);
}

Handler::Admission Handler::admit(const http::Head& head, const std::string& peer_host) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  Admission a;
  std::string_view path = head.path();
  if (path.rfind("/_inlet/", 0) == 0) {
    a.max_body = static_cast<uint64_t>(runtime_.config.server.max_body_bytes);
    // A body over max_body is refused 413 by the connection, before any budget.
    if (head.content_length <= a.max_body && !holdDeclared(head, a))
      a.reply = refusal(503, "overloaded", kOverBudget);
    return a;
  }
  auto it = runtime_.by_path.find(std::string(path));
  if (it == runtime_.by_path.end()) {
    a.reply = refusal(404, "unknown_pipeline", "no pipeline at this path");
    return a;
  }
  pipeline::Pipeline& p = *it->second;
  const auto& cfg = p.config();
  auto reject = [&](const Outcome& o) {
    p.count(o.code);
    a.reply = toReply(o, /*close=*/true);
  };
  if (!p.methodAllowed(head.method)) {
    std::string allow;
    for (const auto& m : cfg.methods) allow += (allow.empty() ? "" : ", ") + m;
    reject(
        errorOutcome(405, "method_not_allowed", "method " + head.method + " is not allowed here"));
    a.reply->headers.emplace_back("Allow", allow);
    return a;
  }
  if (!p.ipAllowed(peer_host)) {
    reject(errorOutcome(403, "ip_not_allowed", "source address not allowed"));
    return a;
  }
  if (!p.takeToken()) {
    reject(errorOutcome(429, "rate_limited", "rate limit exceeded"));
    return a;
  }
  if (in_flight_.load(std::memory_order_relaxed) >= runtime_.config.server.max_inflight) {
    reject(errorOutcome(503, "overloaded", "too many requests in flight"));
    return a;
  }
  // The limit is decided from Content-Length before reading; a chunked body is held to it
  // while it streams in.
  const int64_t limit =
      cfg.max_body_bytes > 0 ? cfg.max_body_bytes : runtime_.config.server.max_body_bytes;
  if (head.has_length && head.content_length > static_cast<uint64_t>(limit)) {
    reject(errorOutcome(413, "body_too_large", "body exceeds " + std::to_string(limit) + " bytes"));
    return a;
  }
  if (!holdDeclared(head, a)) {
    reject(errorOutcome(503, "overloaded", kOverBudget));
    return a;
  }
  a.pipeline = &p;
  a.max_body = static_cast<uint64_t>(limit);
  return a;
}

bool Handler::holdDeclared(const http::Head& head, Admission& a) {
  if (!head.has_length) return true;  // a chunked body takes its bytes as they arrive
  if (!holdBody(head.content_length)) return false;
  a.held = head.content_length;
  return true;
}

bool Handler::holdBody(uint64_t bytes) {
  const auto budget = static_cast<uint64_t>(runtime_.config.server.max_buffered_bytes);
  uint64_t now = buffered_.load(std::memory_order_relaxed);
  do {
    if (bytes > budget - std::min(now, budget)) return false;
  } while (!buffered_.compare_exchange_weak(now, now + bytes, std::memory_order_relaxed));
  return true;
}

std::optional<Reply> Handler::handle(const Admission& admission, http::Head&& head,
                                     std::string&& body, const std::string& peer,
                                     int64_t received_ms, std::function<void(Reply&&)> done) {
  if (!admission.pipeline) return internal(head.path());
  const auto started = std::chrono::steady_clock::now();
  pipeline::Pipeline& p = *admission.pipeline;
  const auto& cfg = p.config();
  auto answer = [&](Reply&& reply) {
    p.durations().observe(secondsSince(started));
    return std::optional<Reply>(std::move(reply));
  };

  pipeline::Request r;
  r.method = std::move(head.method);
  r.url =
      !cfg.public_url.empty() ? cfg.public_url + head.target : "http://" + head.host + head.target;
  r.target = std::move(head.target);
  r.remote_addr = peer;
  r.received_ms = received_ms;
  r.headers = std::move(head.headers);
  r.body = std::move(body);

  pipeline::Prepared prepared;
  try {
    inlet_auth_result verdict = p.verify(r);
    if (verdict.verdict == INLET_REJECT) {
      // Only the stable code and the provider's message reach the sender; `detail` (expected
      // signatures) stays in `inlet verify`.
      p.count(verdict.code);
      return answer(
          toReply(errorOutcome(verdict.http_status, verdict.code, verdict.message), false));
    }
    if (verdict.verdict == INLET_RESPOND) {
      p.count("responded");
      Reply reply;
      reply.content_type =
          verdict.response_content_type[0] ? verdict.response_content_type : "text/plain";
      reply.body = verdict.response_body;
      return answer(std::move(reply));
    }
    prepared = p.prepare(r, verdict);
  } catch (const std::exception& e) {
    // A request the pipeline cannot handle fails alone: nothing stored, the server stays up.
    log::error("pipeline " + cfg.name + ": a request could not be processed: " + e.what());
    p.count("internal_error");
    return answer(
        toReply(errorOutcome(500, "internal_error", "the request could not be processed"), false));
  }
  if (!prepared.ok) {
    p.count(prepared.error.code);
    return answer(toReply(prepared.error, false));
  }

  const size_t count = prepared.events.size();
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  journal_.appendAsync(
      cfg.name, prepared.claim_key, cfg.dedup.window_ms, std::move(prepared.events),
      [this, &p, count, started, done = std::move(done)](const journal::AppendResult& res) {
        complete(p, count, res, started, done);
      });
  return std::nullopt;
}

// Runs on the journal's writer thread: quick, no I/O.
void Handler::complete(pipeline::Pipeline& p, size_t count, const journal::AppendResult& result,
                       std::chrono::steady_clock::time_point started,
                       const std::function<void(Reply&&)>& done) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const auto& cfg = p.config();
  auto answer = [&](Reply&& reply) { answerLater(p, started, done, std::move(reply)); };
  Reply reply;
  switch (result.status) {
    case journal::AppendResult::Status::Failed:
      p.count("storage_unavailable");
      return answer(toReply(
          errorOutcome(503, "storage_unavailable", "the event could not be made durable"), false));
    case journal::AppendResult::Status::Duplicate:
      p.count("duplicate");
      reply.body = "{\"status\":\"duplicate\",\"id\":" + util::jsonString(result.event_id) + "}";
      return answer(std::move(reply));
    case journal::AppendResult::Status::Accepted:
      break;
  }
  p.count("accepted");
  std::string extra = count > 1 ? ",\"count\":" + std::to_string(count) : "";
  std::string id = util::jsonString(result.event_id);
  if (cfg.ack == config::PipelineConfig::Ack::Delivered && delivery_ && !cfg.sinks.empty()) {
    auto delivered_reply = [&p, started, id, extra, done](bool delivered) {
      Reply r;
      // Durable in the journal and still delivered later: 202, never an error the provider
      // would retry into a duplicate.
      r.status = delivered ? 200 : 202;
      r.body = "{\"status\":\"accepted\",\"id\":" + id + extra +
               (delivered ? ",\"delivered\":true}" : ",\"delivered\":false}");
      answerLater(p, started, done, std::move(r));
    };
    delivery_->whenDelivered(cfg.sinks, result.last_seq, cfg.ack_timeout_ms, delivered_reply);
    return;
  }
  reply.body = "{\"status\":\"accepted\",\"id\":" + id + extra + "}";
  answer(std::move(reply));
}

Reply Handler::internal(std::string_view path) {
  Reply r;
  if (path == "/_inlet/health") {
    r.body = "{\"status\":\"ok\"}";
  } else if (path == "/_inlet/metrics") {
    r.content_type = "text/plain; version=0.0.4";
    std::string m = "# TYPE inlet_requests_total counter\n";
    for (const auto& p : runtime_.pipelines)
      for (const auto& [code, n] : p->counters())
        m += "inlet_requests_total{pipeline=\"" + p->config().name + "\",outcome=\"" + code +
             "\"} " + std::to_string(n) + "\n";
    m += "# TYPE inlet_request_duration_seconds histogram\n";
    for (const auto& p : runtime_.pipelines)
      p->durations().render(m, "inlet_request_duration_seconds",
                            "pipeline=\"" + p->config().name + "\"");
    m += "# TYPE inlet_journal_commit_seconds histogram\n";
    journal_.commitSeconds().render(m, "inlet_journal_commit_seconds");
    m += "# TYPE inlet_journal_commit_requests histogram\n";
    journal_.commitRequests().render(m, "inlet_journal_commit_requests");
    m += "# TYPE inlet_journal_pending gauge\ninlet_journal_pending " +
         std::to_string(journal_.pending()) + "\n";
    m += "# TYPE inlet_request_body_bytes_held gauge\ninlet_request_body_bytes_held " +
         std::to_string(bufferedBytes()) + "\n";
    m += "# TYPE inlet_requests_in_flight gauge\ninlet_requests_in_flight " +
         std::to_string(inFlight()) + "\n";
    m += "# TYPE inlet_dedup_claims_in_memory gauge\ninlet_dedup_claims_in_memory " +
         std::to_string(journal_.claimsInMemory()) + "\n";
    m += "# TYPE inlet_dedup_claim_flushes_total counter\ninlet_dedup_claim_flushes_total " +
         std::to_string(journal_.claimFlushes()) + "\n";
    m += "# TYPE inlet_dedup_claim_flush_failures_total counter\n"
         "inlet_dedup_claim_flush_failures_total " +
         std::to_string(journal_.claimFlushFailures()) + "\n";
    m += "# TYPE inlet_dedup_claim_merges_total counter\ninlet_dedup_claim_merges_total " +
         std::to_string(journal_.claimMerges()) + "\n";
    m += "# TYPE inlet_dedup_claim_merge_failures_total counter\n"
         "inlet_dedup_claim_merge_failures_total " +
         std::to_string(journal_.claimMergeFailures()) + "\n";
    if (delivery_) {
      m += "# TYPE inlet_sink_backlog gauge\n";
      for (const auto& [sink, n] : delivery_->backlog())
        m += "inlet_sink_backlog{sink=\"" + sink + "\"} " + std::to_string(n) + "\n";
    }
    r.body = std::move(m);
  } else {
    return refusal(404, "unknown_pipeline", "no pipeline at this path");
  }
  return r;
}

}  // namespace inlet::server
