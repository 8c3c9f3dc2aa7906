#include "journal/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "journal/tables.h"
#include "util/ids.h"
#include "util/log.h"
#include "util/thread.h"

namespace inlet::journal {

namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  pipeline TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  provider TEXT,
  event_type TEXT,
  delivery_id TEXT,
  dedup_key TEXT,
  headers TEXT,
  body BLOB,
  data TEXT,
  columns TEXT,
  authenticated INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS events_pipeline_seq ON events(pipeline, seq);
CREATE INDEX IF NOT EXISTS events_received ON events(received_at);
CREATE TABLE IF NOT EXISTS claim_log(
  seq INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, key TEXT NOT NULL, event_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cursors(sink TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters(
  sink TEXT NOT NULL, seq INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT,
  failed_at INTEGER NOT NULL, PRIMARY KEY(sink, seq)) WITHOUT ROWID;
)sql";

const char* kSelectColumns =
    "SELECT seq, id, pipeline, received_at, provider, event_type, delivery_id, dedup_key, headers, "
    "coalesce(body, CAST(data AS BLOB)), data, columns, authenticated FROM events";

Event readEvent(Statement& st) {
  Event e;
  e.seq = static_cast<uint64_t>(st.integer(0));
  e.id = st.text(1);
  e.pipeline = st.text(2);
  e.received_ms = st.integer(3);
  e.provider = st.text(4);
  e.event_type = st.text(5);
  e.delivery_id = st.text(6);
  e.dedup_key = st.text(7);
  e.headers_json = st.text(8);
  e.body = st.text(9);
  e.data_json = st.text(10);
  e.columns_json = st.text(11);
  e.authenticated = st.integer(12) != 0;
  return e;
}

// WAL size (pages) at which the checkpointer thread is woken (twice SQLite's own
// wal_autocheckpoint default: fewer copies of pages that every commit rewrites, such as index
// pages), and the size at which the writer checkpoints itself: under
// sustained load the checkpointer copies most frames while the writer keeps appending, but the
// WAL can only start over once a checkpoint has copied every frame, which the writer's own
// checkpoint between two commits does (cheaply, the rest having been copied already).
constexpr int kCheckpointPages = 2000;
constexpr int kWriterCheckpointPages = 4000;

// Drops the journal file's pages that lie more than `tail` bytes before its end from the OS page
// cache. Events are appended, and once checkpointed their pages are read again only by a sink
// far behind, a query or the retention sweep; kept, they would grow the page cache by every
// byte the journal takes (gigabytes an hour under load), and the checkpoints that copy new pages
// in would allocate fresh memory for each instead of reusing what was dropped. Measured, the
// checkpoints' CPU per event grew by half over two minutes of load without this, and wrk's p99
// doubled. The cache only: what a reader gets is unchanged.
class ColdPages {
 public:
  ColdPages(const std::string& path, int64_t tail)
      : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), tail_(tail) {}
  ~ColdPages() {
    if (fd_ >= 0) ::close(fd_);
  }
  ColdPages(const ColdPages&) = delete;
  ColdPages& operator=(const ColdPages&) = delete;

  // Makes the pages a checkpoint copied durable (and clean, so that drop() can let them go).
  void sync() {
    if (fd_ >= 0) ::fdatasync(fd_);
  }

  // After a checkpoint. The whole range each time: a page is dropped only once it is clean (a
  // checkpoint still writing it leaves it dirty), and pages read back meanwhile (the claims
  // flush, a sink far behind) go again; the kernel skips what is not cached.
  void drop() {
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) return;
    const int64_t until = static_cast<int64_t>(st.st_size) - tail_;
    if (until > 0) ::posix_fadvise(fd_, 0, until, POSIX_FADV_DONTNEED);
  }

 private:
  int fd_;
  int64_t tail_;
};

// Memory for the most recently committed events (Journal::recentAfter). A sink that keeps up
// reads well inside it; one further behind reads the database.
constexpr size_t kRecentBytes = 8 << 20;

size_t footprint(const Event& e) {
  return sizeof(Event) + e.id.size() + e.pipeline.size() + e.provider.size() + e.event_type.size() +
         e.delivery_id.size() + e.dedup_key.size() + e.headers_json.size() + e.body.size() +
         e.data_json.size() + e.columns_json.size();
}

}  // namespace

Journal::Journal(const config::JournalConfig& config, int background_nice)
    : config_(config), background_nice_(background_nice), retention_(config.tables) {
  auto parent = std::filesystem::path(config_.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  db_ = std::make_unique<Database>(config_.path, false);
  // WAL + synchronous=FULL: a commit returns only after the WAL is fsync'd, so an acknowledged
  // event survives kill -9 and power loss; readers never block the writer.
  // temp_store=MEMORY keeps each request's savepoint journal (the pages it changes, for a
  // rollback of that request alone) in memory instead of spilling it to a temporary file.
  db_->exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; "
      "PRAGMA temp_store=MEMORY;");
  // One transaction: a table name that is taken leaves a database that was not a journal as
  // it was (e.g. one an older config's sqlite sink wrote at this path).
  db_->transaction("BEGIN IMMEDIATE", [&] {
    db_->exec(kSchema);
    serveTables(*db_, config_.tables);
  });
  auto* d = db_->get();
  insert_event_ =
      Statement(d,
                "INSERT INTO events(id, pipeline, received_at, provider, event_type, delivery_id, "
                "dedup_key, headers, body, data, columns, authenticated) "
                "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
  Claims::Options claim_options;
  claim_options.background_nice = background_nice_;
  claim_options.flush_claims = config_.claims_flush_at;
  claim_options.merge_fan_in = config_.claims_merge_fan_in;
  claims_ = std::make_unique<Claims>(*db_, config_.path, claim_options);
  get_cursor_ = Statement(d, "SELECT seq FROM cursors WHERE sink = ?1");
  set_cursor_ = Statement(d,
                          "INSERT INTO cursors(sink, seq) VALUES(?1, ?2) "
                          "ON CONFLICT(sink) DO UPDATE SET seq = max(seq, excluded.seq)");
  dead_letter_ = Statement(
      d,
      "INSERT INTO dead_letters(sink, seq, attempts, error, failed_at) VALUES(?1,?2,?3,?4,?5) "
      "ON CONFLICT(sink, seq) DO UPDATE SET attempts = excluded.attempts, "
      "error = excluded.error, failed_at = excluded.failed_at");
  savepoint_ = Statement(d, "SAVEPOINT request");
  release_ = Statement(d, "RELEASE request");
  recent_base_ = maxSeq();  // the writer has not started: nothing newer exists yet
  sqlite3_wal_hook(d, &Journal::walHook, this);  // replaces SQLite's own autocheckpoint
  checkpointer_ = std::thread([this] { checkpointLoop(); });
  writer_ = std::thread([this] { writerLoop(); });
}

int Journal::walHook(void* journal, sqlite3* db, const char* name, int pages) {
  auto* self = static_cast<Journal*>(journal);
  if (pages >= kWriterCheckpointPages) {
    // Busy (the checkpointer is at work) is fine: the next commit tries again, and the
    // checkpointer starts no new pass until the writer's has run. Without that, a writer that
    // commits back to back could find the checkpoint taken at every commit, and the WAL would
    // grow far past this size before it starts over.
    self->writer_checkpoint_due_.store(true);
    if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
        SQLITE_OK)
      self->writer_checkpoint_due_.store(false);
  }
  // Past the writer's own checkpoint too, so that the checkpointer drops the pages it copied
  // from the page cache (ColdPages).
  if (pages >= kCheckpointPages) {
    {
      std::lock_guard<std::mutex> lock(self->checkpoint_mutex_);
      self->checkpoint_wanted_ = true;
    }
    self->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void Journal::checkpointLoop() {
  util::nameThread("inlet-ckpt");
  util::lowerThreadPriority(background_nice_);
  std::unique_ptr<Database> db;
  try {
    // Paced: its copies reach the disk a step at a time, not in one burst that the writer's
    // next fsync would wait behind.
    db = std::make_unique<Database>(config_.path, false, Writes::Paced);
    // The checkpoint fsyncs the WAL before copying and the database after, as SQLite's own.
    db->exec("PRAGMA synchronous=FULL");
  } catch (const std::exception& e) {
    log::warn(std::string("journal: no checkpoint thread, the writer checkpoints: ") + e.what());
    return;
  }
  ColdPages cold(config_.path, config_.cached_tail_bytes);
  std::unique_lock<std::mutex> lock(checkpoint_mutex_);
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || checkpoint_stop_; });
    if (checkpoint_stop_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    int rc = writer_checkpoint_due_.load()
                 ? SQLITE_BUSY  // the writer's turn (walHook)
                 : sqlite3_wal_checkpoint_v2(db->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                             nullptr);
    // SQLite syncs the database only after a checkpoint that copied the whole WAL, which under
    // load is the writer's own (walHook): it would sync every page this thread copied since,
    // megabytes, while a group of requests waits for its answer (16–21 ms, measured). Synced
    // here instead, the writer's checkpoint syncs only the frames it copies itself.
    if (rc == SQLITE_OK) cold.sync();
    // Also when busy: the writer's own checkpoint (which took the lock) copied the pages.
    cold.drop();
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      log::warn(std::string("journal: checkpoint failed: ") + sqlite3_errmsg(db->get()));
    lock.lock();
  }
}

Journal::~Journal() { close(); }

void Journal::close() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (closing_ && !writer_.joinable()) return;
    closing_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (claims_) claims_->close();
  {
    std::lock_guard<std::mutex> lock(checkpoint_mutex_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    writer_stopped_ = true;
  }
  cursors_cv_.notify_all();
}

size_t Journal::pending() const {
  std::lock_guard<std::mutex> lock(queue_mutex_);
  return queue_.size();
}

void Journal::setCommitListener(std::function<void(uint64_t)> listener) {
  std::lock_guard<std::mutex> lock(db_mutex_);
  on_commit_ = std::move(listener);
}

void Journal::setPruneFloor(std::function<uint64_t()> floor) {
  std::lock_guard<std::mutex> lock(db_mutex_);
  prune_floor_ = std::move(floor);
}

AppendResult Journal::append(const std::string& pipeline, const std::string& claim_key,
                             int64_t window_ms, std::vector<Event> events) {
  std::promise<AppendResult> promise;
  auto future = promise.get_future();
  appendAsync(pipeline, claim_key, window_ms, std::move(events),
              [&promise](const AppendResult& r) { promise.set_value(r); });
  // No timeout on purpose: the writer finishes every submission (commit or failure), and a
  // request must never be answered "failed" for an event that then commits.
  return future.get();
}

void Journal::appendAsync(const std::string& pipeline, const std::string& claim_key,
                          int64_t window_ms, std::vector<Event> events, Done done) {
  auto sub = std::make_unique<Submission>();
  sub->pipeline = pipeline;
  sub->claim_key = claim_key;
  sub->window_ms = window_ms;
  sub->events = std::move(events);
  sub->done = std::move(done);
  bool wake = false, closing = false;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    closing = closing_;
    if (!closing) {
      queued_events_ += sub->events.size();
      // The writer only sleeps on an empty queue: one wake-up per group, not per request.
      wake = queue_.empty();
      queue_.push_back(std::move(sub));
    }
  }
  if (closing) {
    AppendResult r;
    r.error = "the journal is closing";
    sub->done(r);
    return;
  }
  if (wake) queue_cv_.notify_one();
}

void Journal::writerLoop() {
  util::nameThread("inlet-writer");
  std::vector<std::unique_ptr<Submission>> batch;
  std::map<std::string, uint64_t> cursors;
  for (;;) {
    uint64_t generation;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait_for(lock, std::chrono::seconds(1),
                         [&] { return closing_ || !queue_.empty() || !pending_cursors_.empty(); });
      if (queue_.empty() && pending_cursors_.empty()) {
        if (closing_) return;
        lock.unlock();
        prune();
        continue;
      }
      size_t events = 0;
      while (!queue_.empty() && (batch.empty() || events + queue_.front()->events.size() <=
                                                      static_cast<size_t>(config_.max_batch))) {
        events += queue_.front()->events.size();
        queued_events_ -= queue_.front()->events.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      cursors.swap(pending_cursors_);
      // Visible to cursor() from now on: in the writer's hands they are in neither map otherwise.
      for (const auto& [sink, seq] : cursors) {
        uint64_t& c = taken_cursors_[sink];
        c = std::max(c, seq);
      }
      generation = cursor_generation_;
    }
    if (batch.empty())
      writeCursors(cursors);
    else
      commitBatch(batch, cursors);
    batch.clear();
    {
      std::lock_guard<std::mutex> lock(queue_mutex_);
      cursor_committed_generation_ = generation;
    }
    cursors_cv_.notify_all();
    cursors.clear();
  }
}

void Journal::saveCursors(const std::map<std::string, uint64_t>& cursors) {
  for (const auto& [sink, seq] : cursors) {
    set_cursor_.bind(1, sink).bind(2, static_cast<int64_t>(seq));
    set_cursor_.step();
    set_cursor_.reset();
  }
}

void Journal::writeCursors(const std::map<std::string, uint64_t>& cursors) {
  if (cursors.empty()) return;
  std::lock_guard<std::mutex> lock(db_mutex_);
  try {
    db_->transaction("BEGIN IMMEDIATE", [&] { saveCursors(cursors); });
  } catch (const std::exception& e) {
    // Not fatal: the sink sees these events again after a restart.
    log::warn(std::string("journal: a delivery cursor could not be saved: ") + e.what());
  }
}

void Journal::appendOne(Submission& sub, AppendResult& res, int64_t now, uint64_t& last_seq) {
  const bool claims = !sub.claim_key.empty() && !sub.events.empty();
  if (claims) {
    if (auto original = claims_->find(sub.pipeline, sub.claim_key, now)) {
      res.event_id = std::move(*original);
      res.status = AppendResult::Status::Duplicate;
      return;
    }
  }
  for (auto& e : sub.events) {
    insert_event_.bind(1, e.id)
        .bind(2, e.pipeline)
        .bind(3, e.received_ms)
        .bindNullableText(4, e.provider)
        .bindNullableText(5, e.event_type)
        .bindNullableText(6, e.delivery_id)
        .bindNullableText(7, e.dedup_key)
        .bind(8, e.headers_json)
        .bindNullableText(10, e.data_json)
        .bindNullableText(11, e.columns_json)
        .bind(12, static_cast<int64_t>(e.authenticated ? 1 : 0));
    // A JSON body is usually byte-identical to its `data`: store those bytes once (readers
    // restore body from data), which halves what every group commit writes and fsyncs.
    if (!e.body.empty() && e.body == e.data_json)
      insert_event_.bindNull(9);
    else
      insert_event_.bindBlob(9, e.body);
    insert_event_.step();
    insert_event_.reset();
    e.seq = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_->get()));
    last_seq = e.seq;
  }
  // In the same transaction as the events: a crash never leaves a key without its event.
  if (claims)
    claims_->add(sub.pipeline, sub.claim_key, sub.events.front().seq, sub.events.front().id,
                 now + sub.window_ms);
  res.status = AppendResult::Status::Accepted;
  res.event_id = sub.events.empty() ? "" : sub.events.front().id;
  res.last_seq = sub.events.empty() ? 0 : sub.events.back().seq;
}

bool Journal::appendBatch(std::vector<std::unique_ptr<Submission>>& batch,
                          std::vector<AppendResult>& results, int64_t now, uint64_t& last_seq,
                          bool isolated) {
  for (size_t i = 0; i < batch.size(); ++i) {
    auto& sub = *batch[i];
    auto& res = results[i];
    if (!isolated) {
      try {
        appendOne(sub, res, now, last_seq);
      } catch (const std::exception& e) {
        log::warn(std::string("journal: a request could not be stored, its group is retried "
                              "request by request: ") +
                  e.what());
        return false;
      }
      continue;
    }
    savepoint_.step();
    savepoint_.reset();
    claims_->beginRequest();
    try {
      appendOne(sub, res, now, last_seq);
      release_.step();
      release_.reset();
    } catch (const std::exception& e) {
      claims_->rollbackRequest();
      db_->exec("ROLLBACK TO request");
      db_->exec("RELEASE request");
      log::error(std::string("journal: a request could not be stored: ") + e.what());
      res = AppendResult{};
      res.status = AppendResult::Status::Failed;
      res.error = e.what();
    }
  }
  return true;
}

void Journal::commitBatch(std::vector<std::unique_ptr<Submission>>& batch,
                          const std::map<std::string, uint64_t>& cursors) {
  std::vector<AppendResult> results(batch.size());
  uint64_t last_seq = 0;
  std::function<void(uint64_t)> listener;
  bool committed = false;
  {
    std::lock_guard<std::mutex> lock(db_mutex_);
    listener = on_commit_;
    int64_t now = util::nowMs();
    const auto started = std::chrono::steady_clock::now();
    auto begin = [&] {
      db_->exec("BEGIN IMMEDIATE");
      claims_->beginTransaction(now);
    };
    try {
      begin();
      // The whole group in one go: a savepoint per request copies every page a request touches
      // (the last leaf of each index) into the statement journal, which costs more than the
      // inserts themselves. Should one request fail, the group starts over with a savepoint
      // per request, so that it fails alone, not the group it was committed with.
      if (!appendBatch(batch, results, now, last_seq, false)) {
        sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
        claims_->rolledBack();
        std::fill(results.begin(), results.end(), AppendResult{});
        last_seq = 0;
        begin();
        appendBatch(batch, results, now, last_seq, true);
      }
      saveCursors(cursors);
      db_->exec("COMMIT");
      committed = true;
      commit_seconds_.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      commit_requests_.observe(static_cast<double>(batch.size()));
      claims_->committed();
    } catch (const std::exception& e) {
      sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
      log::error(std::string("journal commit failed: ") + e.what());
      claims_->rolledBack();
      for (auto& r : results) {
        r = AppendResult{};
        r.status = AppendResult::Status::Failed;
        r.error = e.what();
      }
      last_seq = 0;
    }
  }
  // Kept before the callbacks run: once an append has returned, recentAfter() has its events.
  keepRecent(batch, results, committed);
  // The listener too: once a sender has its 200, the sinks count its events as owed (a
  // shutdown right after the answer waits for them to be delivered).
  if (last_seq && listener) listener(last_seq);
  for (size_t i = 0; i < batch.size(); ++i) batch[i]->done(results[i]);
}

void Journal::keepRecent(std::vector<std::unique_ptr<Submission>>& batch,
                         const std::vector<AppendResult>& results, bool committed) {
  auto chunk = std::make_shared<std::vector<Event>>();
  size_t bytes = 0;
  if (committed) {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (results[i].status != AppendResult::Status::Accepted) continue;
      for (auto& e : batch[i]->events) {
        bytes += footprint(e);
        chunk->push_back(std::move(e));
      }
    }
  }
  std::lock_guard<std::mutex> lock(recent_mutex_);
  if (!committed) {
    // Whether a failed COMMIT left anything behind is unknown: start over with the next
    // committed chunk, below which the database answers.
    recent_.clear();
    recent_bytes_ = 0;
    recent_restart_ = true;
    return;
  }
  if (chunk->empty()) return;
  if (recent_restart_) {
    // Seqs only grow (AUTOINCREMENT), so everything before this chunk is in the database.
    recent_base_ = chunk->front().seq - 1;
    recent_restart_ = false;
  }
  recent_.push_back({std::move(chunk), bytes});
  recent_bytes_ += bytes;
  while (recent_bytes_ > kRecentBytes && recent_.size() > 1) {
    recent_bytes_ -= recent_.front().bytes;
    recent_base_ = recent_.front().events->back().seq;
    recent_.pop_front();
  }
}

bool Journal::recentAfter(uint64_t after, const std::vector<std::string>& pipelines, size_t limit,
                          Recent& out) const {
  out.chunks.clear();
  out.events.clear();
  std::lock_guard<std::mutex> lock(recent_mutex_);
  if (recent_restart_ || after < recent_base_) return false;
  auto first = std::partition_point(recent_.begin(), recent_.end(),
                                    [&](const Chunk& c) { return c.events->back().seq <= after; });
  for (auto it = first; it != recent_.end() && out.events.size() < limit; ++it) {
    bool used = false;
    for (const auto& e : *it->events) {
      if (e.seq <= after) continue;
      if (!pipelines.empty() &&
          std::find(pipelines.begin(), pipelines.end(), e.pipeline) == pipelines.end())
        continue;
      out.events.push_back(&e);
      used = true;
      if (out.events.size() >= limit) break;
    }
    if (used) out.chunks.push_back(it->events);
  }
  return true;
}

void Journal::prune() {
  int64_t now = util::nowMs();
  if (now - last_prune_ms_ < 60'000) return;
  last_prune_ms_ = now;
  std::lock_guard<std::mutex> lock(db_mutex_);
  try {
    uint64_t floor = prune_floor_ ? prune_floor_() : UINT64_MAX;
    retention_.run(*db_, now - config_.retention_ms, floor, now);
  } catch (const std::exception& e) {
    log::warn(std::string("journal pruning failed: ") + e.what());
  }
}

uint64_t Journal::cursor(const std::string& sink) {
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(db_mutex_);
    get_cursor_.bind(1, sink);
    seq = get_cursor_.step() ? static_cast<uint64_t>(get_cursor_.integer(0)) : 0;
    get_cursor_.reset();
  }
  std::lock_guard<std::mutex> lock(queue_mutex_);
  for (const auto* m : {&pending_cursors_, &taken_cursors_}) {
    auto it = m->find(sink);
    if (it != m->end()) seq = std::max(seq, it->second);
  }
  return seq;
}

void Journal::setCursor(const std::string& sink, uint64_t seq) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    uint64_t& c = pending_cursors_[sink];
    c = std::max(c, seq);
    ++cursor_generation_;
    wake = queue_.empty();
  }
  if (wake) queue_cv_.notify_one();
}

void Journal::flushCursors() {
  std::unique_lock<std::mutex> lock(queue_mutex_);
  uint64_t target = cursor_generation_;
  cursors_cv_.wait(lock, [&] { return cursor_committed_generation_ >= target || writer_stopped_; });
}

void Journal::deadLetter(const std::string& sink, const std::vector<uint64_t>& seqs, int attempts,
                         const std::string& error) {
  std::lock_guard<std::mutex> lock(db_mutex_);
  int64_t now = util::nowMs();
  db_->transaction("BEGIN IMMEDIATE", [&] {
    for (auto seq : seqs) {
      dead_letter_.bind(1, sink)
          .bind(2, static_cast<int64_t>(seq))
          .bind(3, static_cast<int64_t>(attempts))
          .bind(4, error)
          .bind(5, now);
      dead_letter_.step();
      dead_letter_.reset();
    }
  });
}

void removeDeadLetters(const std::string& journal_path, const std::string& sink,
                       const std::vector<uint64_t>& seqs) {
  Database db(journal_path, false);
  Statement remove(db.get(), "DELETE FROM dead_letters WHERE sink = ?1 AND seq = ?2");
  db.transaction("BEGIN IMMEDIATE", [&] {
    for (auto seq : seqs) {
      remove.bind(1, sink).bind(2, static_cast<int64_t>(seq));
      remove.step();
      remove.reset();
    }
  });
}

void Journal::flushClaims() { claims_->flushNow(); }

uint64_t Journal::maxSeq() {
  std::lock_guard<std::mutex> lock(db_mutex_);
  Statement st(db_->get(), "SELECT coalesce(max(seq), 0) FROM events");
  st.step();
  return static_cast<uint64_t>(st.integer(0));
}

Reader::Reader(const std::string& path) : db_(path, true) {}

std::vector<Event> Reader::after(uint64_t after, const std::vector<std::string>& pipelines,
                                 size_t limit) {
  // Delivery asks this once per batch with the same pipelines: the statement is prepared once
  // per pipeline count and reset after each use (a statement left open would hold a read
  // transaction, and the WAL could not start over).
  Statement& st = after_[pipelines.size()];
  if (!st.get()) {
    std::string sql = std::string(kSelectColumns) + " WHERE seq > ?1";
    if (!pipelines.empty()) {
      sql += " AND pipeline IN (";
      for (size_t i = 0; i < pipelines.size(); ++i) sql += (i ? ",?" : "?") + std::to_string(i + 3);
      sql += ")";
    }
    sql += " ORDER BY seq LIMIT ?2";
    st = Statement(db_.get(), sql.c_str());
  }
  struct ResetOnExit {
    Statement& st;
    ~ResetOnExit() { st.reset(); }
  } reset_on_exit{st};
  st.bind(1, static_cast<int64_t>(after)).bind(2, static_cast<int64_t>(limit));
  for (size_t i = 0; i < pipelines.size(); ++i) st.bind(static_cast<int>(i + 3), pipelines[i]);
  std::vector<Event> out;
  while (st.step()) out.push_back(readEvent(st));
  return out;
}

std::vector<Event> Reader::select(const Filter& f, size_t limit) {
  std::string sql = std::string(kSelectColumns) + " WHERE seq > ?1";
  if (f.pipeline) sql += " AND pipeline = ?2";
  if (f.id) sql += " AND id = ?3";
  if (f.since_ms) sql += " AND received_at >= ?4";
  if (f.until_ms) sql += " AND received_at < ?5";
  if (f.dead_letters_of) sql += " AND seq IN (SELECT seq FROM dead_letters WHERE sink = ?6)";
  sql += " ORDER BY seq LIMIT ?7";
  Statement st(db_.get(), sql.c_str());
  st.bind(1, static_cast<int64_t>(f.after_seq));
  if (f.pipeline) st.bind(2, *f.pipeline);
  if (f.id) st.bind(3, *f.id);
  if (f.since_ms) st.bind(4, *f.since_ms);
  if (f.until_ms) st.bind(5, *f.until_ms);
  if (f.dead_letters_of) st.bind(6, *f.dead_letters_of);
  st.bind(7, static_cast<int64_t>(limit));
  std::vector<Event> out;
  while (st.step()) out.push_back(readEvent(st));
  return out;
}

std::vector<Reader::DeadLetter> Reader::deadLetters(const std::string& sink) {
  Statement st(db_.get(),
               "SELECT sink, seq, attempts, error, failed_at FROM dead_letters WHERE sink = ?1 "
               "ORDER BY seq");
  st.bind(1, sink);
  std::vector<DeadLetter> out;
  while (st.step())
    out.push_back({st.text(0), static_cast<uint64_t>(st.integer(1)),
                   static_cast<int>(st.integer(2)), st.text(3), st.integer(4)});
  return out;
}

}  // namespace inlet::journal
