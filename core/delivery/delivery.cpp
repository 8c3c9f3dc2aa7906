#include "delivery/delivery.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "util/log.h"
#include "util/thread.h"

namespace inlet::delivery {

namespace {
inlet_str s(std::string_view v) { return {v.data(), v.size()}; }
}  // namespace

std::vector<inlet_event> toAbi(const std::vector<journal::Event>& events,
                               const std::map<std::string, std::string>& table_of) {
  std::vector<const journal::Event*> pointers;
  pointers.reserve(events.size());
  for (const auto& e : events) pointers.push_back(&e);
  return toAbi(pointers, table_of);
}

std::vector<inlet_event> toAbi(const std::vector<const journal::Event*>& events,
                               const std::map<std::string, std::string>& table_of) {
  std::vector<inlet_event> out;
  out.reserve(events.size());
  for (const auto* event : events) {
    const auto& e = *event;
    inlet_event a{};
    a.size = sizeof a;
    a.seq = e.seq;
    a.id = s(e.id);
    a.pipeline = s(e.pipeline);
    auto t = table_of.find(e.pipeline);
    a.table = t == table_of.end() ? s(e.pipeline) : s(t->second);
    a.received_ms = e.received_ms;
    a.provider = s(e.provider);
    a.event_type = s(e.event_type);
    a.delivery_id = s(e.delivery_id);
    a.dedup_key = s(e.dedup_key);
    a.headers_json = s(e.headers_json);
    a.body = s(e.body);
    a.data_json = s(e.data_json);
    a.columns_json = s(e.columns_json);
    a.authenticated = e.authenticated ? 1 : 0;
    out.push_back(a);
  }
  return out;
}

bool prepareTables(plugin::SinkInstance& sink, const std::vector<TableInfo>& tables,
                   std::string& error) {
  for (const auto& t : tables) {
    std::vector<inlet_column> cols;
    for (const auto& [name, type] : t.columns) cols.push_back({s(name), type});
    inlet_table_spec spec{};
    spec.size = sizeof spec;
    spec.pipeline = s(t.pipeline);
    spec.table = s(t.table);
    spec.columns = cols.data();
    spec.column_count = cols.size();
    if (sink.prepare(spec, error) != INLET_OK) return false;
  }
  return true;
}

Delivery::Delivery(journal::Journal& journal, std::vector<SinkSetup> sinks) : journal_(journal) {
  for (auto& s : sinks) {
    auto w = std::make_unique<Worker>();
    for (const auto& t : s.tables) {
      w->table_of[t.pipeline] = t.table;
      w->pipelines.push_back(t.pipeline);
    }
    w->setup = std::move(s);
    w->cursor = journal_.cursor(w->setup.name);
    workers_.push_back(std::move(w));
  }
  committed_ = journal_.maxSeq();
}

Delivery::~Delivery() { stop(); }

void Delivery::start(int background_nice) {
  for (auto& w : workers_) {
    if (w->pipelines.empty()) continue;  // a sink no pipeline uses has nothing to do
    Worker* wp = w.get();
    w->thread = std::thread([this, wp, background_nice] {
      util::nameThread("sink:" + wp->setup.name);
      util::lowerThreadPriority(background_nice);
      run(*wp);
    });
  }
  waiter_thread_ = std::thread([this] {
    util::nameThread("inlet-acks");
    runWaiters();
  });
}

void Delivery::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  progressed_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (waiter_thread_.joinable()) waiter_thread_.join();
}

uint64_t Delivery::lag(const Worker& w) const {
  uint64_t at = std::max(w.cursor.load(), w.handled.load());
  return committed_ > at ? committed_ - at : 0;
}

std::vector<std::string> Delivery::drain(int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    std::vector<std::string> behind;
    for (const auto& w : workers_)
      if (!w->pipelines.empty() && lag(*w) > 0) behind.push_back(w->setup.name);
    auto now = std::chrono::steady_clock::now();
    if (behind.empty() || stopping_ || now >= deadline) return behind;
    // A worker that finds nothing to send moves `handled` without a notification: look again
    // every few milliseconds.
    progressed_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
  }
}

void Delivery::notifyCommitted(uint64_t seq) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    committed_ = std::max(committed_, seq);
  }
  wake_.notify_all();
}

std::vector<std::pair<std::string, uint64_t>> Delivery::backlog() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& w : workers_)
    if (!w->pipelines.empty()) out.emplace_back(w->setup.name, lag(*w));
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t Delivery::floor() const {
  uint64_t f = UINT64_MAX;
  for (const auto& w : workers_)
    if (!w->pipelines.empty()) f = std::min<uint64_t>(f, w->cursor.load());
  return f;
}

void Delivery::waitForMore(const Worker& w, uint64_t last, size_t limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  // committed_ counts every pipeline's events: it may end the wait early, never late.
  wake_.wait_for(lock, std::chrono::milliseconds(w.setup.batch_wait_ms), [&] {
    return stopping_ || committed_ >= last + limit || !waiters_.empty() || blocking_waiters_ > 0;
  });
}

bool Delivery::sleepFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

int Delivery::deliveredState(const std::vector<std::string>& sinks, uint64_t seq) const {
  int state = 1;
  for (const auto& w : workers_) {
    if (std::find(sinks.begin(), sinks.end(), w->setup.name) == sinks.end()) continue;
    if (std::find(w->dead.begin(), w->dead.end(), seq) != w->dead.end()) return -1;
    if (w->cursor.load() < seq) state = 0;
  }
  return state;
}

bool Delivery::waitDelivered(const std::vector<std::string>& sinks, uint64_t seq,
                             int64_t timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> lock(mutex_);
  ++blocking_waiters_;
  wake_.notify_all();  // a sink waiting for a fuller batch writes now
  while (deliveredState(sinks, seq) == 0 && !stopping_ &&
         progressed_.wait_until(lock, deadline) != std::cv_status::timeout) {
  }
  int state = deliveredState(sinks, seq);  // also the last look after the deadline
  --blocking_waiters_;
  return state > 0;
}

void Delivery::whenDelivered(std::vector<std::string> sinks, uint64_t seq, int64_t timeout_ms,
                             std::function<void(bool)> done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ && waiter_thread_.joinable()) {
      waiters_.push_back(
          Waiter{std::move(sinks), seq,
                 std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms),
                 std::move(done)});
      done = nullptr;
    }
  }
  if (done) {
    done(false);  // not running: the event is durable and is delivered after a restart
    return;
  }
  progressed_.notify_all();
  wake_.notify_all();  // a sink waiting for a fuller batch writes now
}

void Delivery::runWaiters() {
  std::unique_lock<std::mutex> lock(mutex_);
  std::vector<std::pair<std::function<void(bool)>, bool>> ready;
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    auto next = now + std::chrono::seconds(1);
    for (size_t i = 0; i < waiters_.size();) {
      int state = deliveredState(waiters_[i].sinks, waiters_[i].seq);
      if (state != 0 || stopping_ || waiters_[i].deadline <= now) {
        ready.emplace_back(std::move(waiters_[i].done), state > 0);
        waiters_[i] = std::move(waiters_.back());
        waiters_.pop_back();
      } else {
        next = std::min(next, waiters_[i].deadline);
        ++i;
      }
    }
    if (!ready.empty()) {
      lock.unlock();
      for (auto& [done, delivered] : ready) done(delivered);
      ready.clear();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    progressed_.wait_until(lock, next);
  }
}

void Delivery::run(Worker& w) {
  const auto& name = w.setup.name;
  std::mt19937_64 rng(std::random_device{}());
  std::unique_ptr<journal::Reader> reader;
  bool prepared = false;
  int attempts = 0;
  uint64_t single_until = 0;  // after a dropped batch, retry its events one by one
  auto backoff = [&](int attempt) {
    double base = static_cast<double>(w.setup.retry.initial_backoff_ms) *
                  std::pow(2.0, std::min(attempt - 1, 30));
    int64_t cap =
        std::min<int64_t>(static_cast<int64_t>(std::min(base, 1e15)), w.setup.retry.max_backoff_ms);
    // Full jitter: spreads retries from many instances hitting one recovering downstream.
    std::uniform_int_distribution<int64_t> d(cap / 2, std::max<int64_t>(cap, 1));
    return d(rng);
  };
  auto advance = [&](uint64_t seq) {
    journal_.setCursor(name, seq);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      w.cursor = seq;
      w.handled = std::max(w.handled.load(), seq);
    }
    progressed_.notify_all();
  };

  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    try {
      if (!reader) reader = std::make_unique<journal::Reader>(journal_.path());
      if (!prepared) {
        std::string error;
        if (!prepareTables(*w.setup.instance, w.setup.tables, error)) {
          ++attempts;
          log::warn("sink " + name + ": prepare failed (attempt " + std::to_string(attempts) +
                    "): " + error);
          if (!sleepFor(backoff(attempts))) return;
          continue;
        }
        prepared = true;
        attempts = 0;
      }
      size_t limit = w.cursor.load() < single_until ? 1 : static_cast<size_t>(w.setup.batch_size);
      // Events the journal committed a moment ago are still in its memory; a sink further
      // behind reads them back from the database.
      uint64_t seen;  // read first: a commit landing after the read below ends the wait at once
      {
        std::lock_guard<std::mutex> lock(mutex_);
        seen = committed_;
      }
      journal::Journal::Recent recent;
      std::vector<journal::Event> read;
      std::vector<const journal::Event*> events;
      if (journal_.recentAfter(w.cursor.load(), w.pipelines, limit, recent)) {
        events = std::move(recent.events);
      } else {
        read = reader->after(w.cursor.load(), w.pipelines, limit);
        for (const auto& e : read) events.push_back(&e);
      }
      if (events.empty()) {
        std::unique_lock<std::mutex> lock(mutex_);
        // Everything committed up to `seen` was visible to the read above: none of it is ours.
        w.handled = std::max(w.handled.load(), seen);
        wake_.wait_for(lock, std::chrono::seconds(1),
                       [&] { return stopping_ || committed_ != seen; });
        continue;
      }
      auto abi = toAbi(events, w.table_of);
      std::string error;
      int rc = w.setup.instance->write(abi, error);
      uint64_t last = events.back()->seq;
      if (rc == INLET_OK) {
        attempts = 0;
        advance(last);
        if (events.size() < limit && w.setup.batch_wait_ms > 0) waitForMore(w, last, limit);
        continue;
      }
      if (rc == INLET_DROP && events.size() > 1) {
        log::warn("sink " + name + ": batch refused (" + error +
                  "); retrying its events one by one");
        single_until = last;
        continue;
      }
      ++attempts;
      if (rc == INLET_DROP || attempts >= w.setup.retry.max_attempts) {
        std::vector<uint64_t> seqs;
        for (const auto* e : events) seqs.push_back(e->seq);
        log::error("sink " + name + ": dead-lettering " + std::to_string(seqs.size()) +
                   " event(s) after " + std::to_string(attempts) + " attempt(s): " + error);
        journal_.deadLetter(name, seqs, attempts, error);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          for (auto sq : seqs) {
            w.dead.push_back(sq);
            if (w.dead.size() > 10000) w.dead.pop_front();
          }
        }
        attempts = 0;
        advance(last);
        continue;
      }
      log::warn("sink " + name + ": write failed (attempt " + std::to_string(attempts) + " of " +
                std::to_string(w.setup.retry.max_attempts) + "): " + error);
      if (!sleepFor(backoff(attempts))) return;
    } catch (const std::exception& e) {
      log::error("sink " + name + ": delivery error: " + e.what());
      reader.reset();
      if (!sleepFor(1000)) return;
    }
  }
}

}  // namespace inlet::delivery
