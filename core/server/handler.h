// What a request means, once its bytes are framed: admission before the body (route, method,
// source address, rate, in-flight budget, declared size — cheapest check first), then verify →
// prepare → journal, answered when the journal has committed. Nothing here blocks: the answer
// to an accepted event comes back through a callback from the journal's writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "delivery/delivery.h"
#include "journal/journal.h"
#include "pipeline/runtime.h"
#include "server/http.h"

namespace inlet::server {

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this answer
};

Reply toReply(const pipeline::Outcome& outcome, bool close);

class Handler {
 public:
  Handler(pipeline::Runtime& runtime, journal::Journal& journal, delivery::Delivery* delivery)
      : runtime_(runtime), journal_(journal), delivery_(delivery) {}

  struct Admission {
    pipeline::Pipeline* pipeline = nullptr;  // null: an internal endpoint (/_inlet/...)
    uint64_t max_body = 0;
    uint64_t held = 0;           // body bytes taken from the budget (the declared length)
    std::optional<Reply> reply;  // set: answer now, read no body
  };
  // Runs as soon as the head is parsed, before a byte of the body is read. An admitted request
  // with a Content-Length has taken it from the body budget (server.max_buffered_bytes); the
  // connection gives it back with releaseBody() once the request is answered or dropped.
  Admission admit(const http::Head& head, const std::string& peer_host);

  // Request bodies held in memory, being read or waiting for the journal: at most
  // server.max_buffered_bytes in all. holdBody() takes `bytes` from it, or nothing and returns
  // false. A chunked body takes its bytes as they arrive.
  bool holdBody(uint64_t bytes);
  static constexpr const char* kOverBudget = "too many request bodies in memory";  // its 503
  void releaseBody(uint64_t bytes) { buffered_.fetch_sub(bytes, std::memory_order_relaxed); }
  uint64_t bufferedBytes() const { return buffered_.load(std::memory_order_relaxed); }

  // The whole request is in. Returns the answer when it is decided here (a refusal, a
  // provider's own response, an internal endpoint); otherwise returns nothing and `done` is
  // called exactly once later, from another thread, after the journal commit.
  std::optional<Reply> handle(const Admission& admission, http::Head&& head, std::string&& body,
                              const std::string& peer, int64_t received_ms,
                              std::function<void(Reply&&)> done);

  // Answer to a request that could not be framed (malformed head, timeout, …).
  static Reply refusal(int status, const std::string& code, const std::string& message);

  int inFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

 private:
  Reply internal(std::string_view path);
  // `started`: when the request was read in full (the pipeline's durations count from it).
  void complete(pipeline::Pipeline& p, size_t count, const journal::AppendResult& result,
                std::chrono::steady_clock::time_point started,
                const std::function<void(Reply&&)>& done);
  // Takes the declared body length from the budget; false when it does not fit.
  bool holdDeclared(const http::Head& head, Admission& a);

  pipeline::Runtime& runtime_;
  journal::Journal& journal_;
  delivery::Delivery* delivery_;  // may be null (no sinks)
  std::atomic<int> in_flight_{0};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> buffered_{0};
};

}  // namespace inlet::server
