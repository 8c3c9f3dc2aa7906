// Feeds sinks from the journal: one thread per sink, a durable cursor per sink, exponential
// backoff with jitter, a retry budget, then dead letters. At-least-once: the cursor moves only
// after the sink reported the batch written.
#pragma once

#include <inlet/abi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "journal/journal.h"
#include "plugin/instances.h"

namespace inlet::delivery {

struct TableInfo {
  std::string pipeline, table;
  std::vector<std::pair<std::string, inlet_column_type>> columns;
};

struct SinkSetup {
  std::string name;
  std::unique_ptr<plugin::SinkInstance> instance;
  std::vector<TableInfo> tables;  // one per pipeline the sink serves
  config::RetryConfig retry;
  int batch_size = 500;
  // After writing a batch smaller than batch_size, wait up to this long for more events (or
  // until batch_size are there) before the next write: under load a sink then writes fewer,
  // larger batches, each one commit / fsync / round trip. Not while a request waits for
  // delivery (`ack: delivered`).
  int64_t batch_wait_ms = 0;
};

// Converts journaled events into the ABI's views (valid while `events` lives).
std::vector<inlet_event> toAbi(const std::vector<const journal::Event*>& events,
                               const std::map<std::string, std::string>& table_of);
std::vector<inlet_event> toAbi(const std::vector<journal::Event>& events,
                               const std::map<std::string, std::string>& table_of);

// Calls prepare() for every table. Returns false with `error` on the first failure.
bool prepareTables(plugin::SinkInstance& sink, const std::vector<TableInfo>& tables,
                   std::string& error);

class Delivery {
 public:
  Delivery(journal::Journal& journal, std::vector<SinkSetup> sinks);
  ~Delivery();
  // `background_nice`: how much lower the sink threads run (util::lowerThreadPriority).
  void start(int background_nice = 0);
  void stop();
  // Waits until every sink has handled what the journal committed, for at most `timeout_ms`;
  // returns the sinks still behind (their events are delivered after the next start).
  std::vector<std::string> drain(int64_t timeout_ms);
  void notifyCommitted(uint64_t seq);
  // Waits until every listed sink has written `seq` (true) or dead-lettered it / timed out
  // (false).
  bool waitDelivered(const std::vector<std::string>& sinks, uint64_t seq, int64_t timeout_ms);
  // The same without blocking: `done(delivered)` runs once, on Delivery's waiter thread.
  void whenDelivered(std::vector<std::string> sinks, uint64_t seq, int64_t timeout_ms,
                     std::function<void(bool)> done);
  // The lowest cursor over all sinks (journal pruning never passes it).
  uint64_t floor() const;
  // Per sink (in name order): how many journal positions were committed after the last one the
  // sink has fully handled (delivered, dead-lettered, or found nothing of its pipelines up to
  // it). 0 when the sink is caught up; it grows while a sink is down or cannot keep up.
  std::vector<std::pair<std::string, uint64_t>> backlog() const;

 private:
  struct Worker {
    SinkSetup setup;
    std::map<std::string, std::string> table_of;
    std::vector<std::string> pipelines;
    std::atomic<uint64_t> cursor{0};
    std::atomic<uint64_t> handled{0};  // nothing left to deliver up to here (>= cursor)
    std::deque<uint64_t> dead;         // recently dead-lettered seqs (bounded), for waitDelivered
    std::thread thread;
  };
  struct Waiter {
    std::vector<std::string> sinks;
    uint64_t seq;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(bool)> done;
  };
  void run(Worker& w);
  void runWaiters();
  bool sleepFor(int64_t ms);  // false when stopping
  // After a batch smaller than `limit` ending at `last`: see SinkSetup::batch_wait_ms.
  void waitForMore(const Worker& w, uint64_t last, size_t limit);
  // 1: every listed sink has `seq`; -1: one dead-lettered it; 0: not yet. Caller holds mutex_.
  int deliveredState(const std::vector<std::string>& sinks, uint64_t seq) const;
  // Journal positions committed after the last one `w` has handled. Caller holds mutex_.
  uint64_t lag(const Worker& w) const;

  journal::Journal& journal_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;        // new commits / stop
  std::condition_variable progressed_;  // a cursor moved
  uint64_t committed_ = 0;
  bool stopping_ = false;
  std::vector<Waiter> waiters_;
  int blocking_waiters_ = 0;  // threads in waitDelivered()
  std::thread waiter_thread_;
};

}  // namespace inlet::delivery
