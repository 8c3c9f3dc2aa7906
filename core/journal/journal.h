// The journal is the ack point: an event is acknowledged (2xx) only after it is committed here
// with fsync. One writer thread group-commits every pending request in one transaction, so one
// fsync covers many requests. Dedup keys are claimed in that same transaction (a primary key),
// so a crash can never leave a claimed key without its event, nor store an event twice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "journal/claims.h"
#include "journal/retention.h"
#include "journal/sqlite.h"
#include "util/histogram.h"

namespace inlet::journal {

struct Event {
  uint64_t seq = 0;  // assigned by the journal
  std::string id;
  std::string pipeline;
  int64_t received_ms = 0;
  std::string provider, event_type, delivery_id, dedup_key;
  std::string headers_json, body, data_json, columns_json;
  bool authenticated = true;
};

struct AppendResult {
  enum class Status { Accepted, Duplicate, Failed } status = Status::Failed;
  std::string event_id;  // first new event's id, or the original event's id for a duplicate
  uint64_t last_seq = 0;
  std::string error;
};

class Journal {
 public:
  // Opens (creating if needed) the journal. Throws SqliteError when it cannot.
  // `background_nice`: how much lower the checkpoint thread runs (util::lowerThreadPriority).
  explicit Journal(const config::JournalConfig& config, int background_nice = 0);
  ~Journal();
  Journal(const Journal&) = delete;

  // Blocks until the events are durable (or the transaction failed). `claim_key` empty means
  // no dedup. All events of one call commit atomically.
  AppendResult append(const std::string& pipeline, const std::string& claim_key, int64_t window_ms,
                      std::vector<Event> events);
  // The same without blocking: `done` runs exactly once, on the writer thread right after the
  // commit (or at once on the calling thread when the journal is closing). It must be quick:
  // the next group commit waits for it.
  using Done = std::function<void(const AppendResult&)>;
  void appendAsync(const std::string& pipeline, const std::string& claim_key, int64_t window_ms,
                   std::vector<Event> events, Done done);
  size_t pending() const;

  // Called (from the writer thread) after each commit with the highest committed seq.
  void setCommitListener(std::function<void(uint64_t)> listener);
  // Returns the lowest seq every sink has passed (events above it are never pruned).
  void setPruneFloor(std::function<uint64_t()> floor);

  // Delivery bookkeeping (serialised with the writer).
  uint64_t cursor(const std::string& sink);
  // Cursors never move back. The new value rides on the writer's next transaction (no fsync of
  // its own competing with acknowledgements); after a crash a sink may see events again from
  // its last persisted cursor, which every sink absorbs (ids are unique keys downstream).
  void setCursor(const std::string& sink, uint64_t seq);
  // Waits until every cursor set so far is committed (tests, shutdown).
  void flushCursors();
  void deadLetter(const std::string& sink, const std::vector<uint64_t>& seqs, int attempts,
                  const std::string& error);
  uint64_t maxSeq();

  // The events the writer committed most recently, kept in memory (bounded) so that a sink
  // keeping up reads them without going back to the database.
  struct Recent {
    std::vector<std::shared_ptr<const std::vector<Event>>> chunks;  // keep `events` alive
    std::vector<const Event*> events;                               // in seq order
  };
  // Fills `out` with the committed events with seq > after (of `pipelines`; all when empty), at
  // most `limit`, and returns true; an empty result then means there are none yet. Returns
  // false when some of those events are no longer held in memory: read them with a Reader.
  bool recentAfter(uint64_t after, const std::vector<std::string>& pipelines, size_t limit,
                   Recent& out) const;

  const std::string& path() const { return config_.path; }
  // Moves the dedup claims committed so far into the claims database now, as the background
  // flush does once enough have gathered (tests and diagnostics).
  void flushClaims();
  size_t claimsInMemory() const { return claims_->inMemory(); }  // as of the last commit
  uint64_t claimFlushFailures() const { return claims_->flushFailures(); }
  uint64_t claimFlushes() const { return claims_->flushes(); }
  uint64_t claimMerges() const { return claims_->merges(); }
  uint64_t claimMergeFailures() const { return claims_->mergeFailures(); }
  // Every committed group commit: its time from BEGIN to the end of COMMIT (the WAL's fsync
  // included), and how many requests it carried.
  const util::Histogram& commitSeconds() const { return commit_seconds_; }
  const util::Histogram& commitRequests() const { return commit_requests_; }
  // Stops accepting, commits what is pending, stops the writer.
  void close();

 private:
  struct Submission {
    std::string pipeline, claim_key;
    int64_t window_ms = 0;
    std::vector<Event> events;
    Done done;
  };
  void writerLoop();
  void commitBatch(std::vector<std::unique_ptr<Submission>>& batch,
                   const std::map<std::string, uint64_t>& cursors);
  void writeCursors(const std::map<std::string, uint64_t>& cursors);  // in a transaction of its own
  void saveCursors(const std::map<std::string, uint64_t>& cursors);   // in the open transaction
  void appendOne(Submission& sub, AppendResult& result, int64_t now_ms, uint64_t& last_seq);
  // Appends every request of the batch. Isolated: each in a savepoint of its own, a failure
  // recorded in its result. Otherwise: false at the first failure (the transaction is spoilt).
  bool appendBatch(std::vector<std::unique_ptr<Submission>>& batch,
                   std::vector<AppendResult>& results, int64_t now_ms, uint64_t& last_seq,
                   bool isolated);
  void prune();
  // Checkpoints run on their own thread and connection, so copying WAL pages into the database
  // (and its fsync) never stalls a group commit; see walHook.
  static int walHook(void* journal, sqlite3* db, const char* name, int pages);
  void checkpointLoop();

  config::JournalConfig config_;
  int background_nice_ = 0;
  std::unique_ptr<Database> db_;
  std::mutex db_mutex_;  // guards db_ and the statements
  Statement insert_event_, get_cursor_, set_cursor_, dead_letter_, savepoint_, release_;
  std::unique_ptr<Claims> claims_;  // dedup claims; before db_ is closed

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Submission>> queue_;
  size_t queued_events_ = 0;
  std::map<std::string, uint64_t> pending_cursors_;  // set, not yet committed
  std::map<std::string, uint64_t> taken_cursors_;    // taken by the writer (being committed or
                                                     // committed)
  uint64_t cursor_generation_ = 0, cursor_committed_generation_ = 0;
  std::condition_variable cursors_cv_;
  bool closing_ = false;
  bool writer_stopped_ = false;
  std::thread writer_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false, checkpoint_stop_ = false;
  std::atomic<bool> writer_checkpoint_due_{false};  // the checkpointer leaves the next one to it
  std::thread checkpointer_;
  std::function<void(uint64_t)> on_commit_;
  std::function<uint64_t()> prune_floor_;
  util::Histogram commit_seconds_{util::Histogram::latencyBounds()};
  util::Histogram commit_requests_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  int64_t last_prune_ms_ = 0;
  RetentionSweep retention_;
  // Every committed event with seq > recent_base_ is in recent_, in seq order.
  void keepRecent(std::vector<std::unique_ptr<Submission>>& batch,
                  const std::vector<AppendResult>& results, bool committed);
  mutable std::mutex recent_mutex_;
  struct Chunk {
    std::shared_ptr<const std::vector<Event>> events;  // one group commit's, in seq order
    size_t bytes = 0;                                  // their memory, for the bound
  };
  std::deque<Chunk> recent_;
  uint64_t recent_base_ = 0;
  size_t recent_bytes_ = 0;
  bool recent_restart_ = false;  // after a failed commit: the next chunk starts a new run
};

// Removes dead letters of `sink` (a replay delivered them) through a connection of its own, so
// that `inlet replay` can run next to `inlet serve` without opening a second Journal.
void removeDeadLetters(const std::string& journal_path, const std::string& sink,
                       const std::vector<uint64_t>& seqs);

// A read-only view for delivery threads and the CLI (its own connection; WAL lets it read while
// the writer commits).
class Reader {
 public:
  explicit Reader(const std::string& path);
  // Events with seq > after, in seq order, for the given pipelines (all when empty).
  std::vector<Event> after(uint64_t after, const std::vector<std::string>& pipelines, size_t limit);
  struct Filter {
    std::optional<std::string> pipeline, id;
    std::optional<int64_t> since_ms, until_ms;
    std::optional<std::string> dead_letters_of;  // sink name
    uint64_t after_seq = 0;
  };
  std::vector<Event> select(const Filter& filter, size_t limit);
  struct DeadLetter {
    std::string sink;
    uint64_t seq;
    int attempts;
    std::string error;
    int64_t failed_at;
  };
  std::vector<DeadLetter> deadLetters(const std::string& sink);

 private:
  Database db_;
  std::map<size_t, Statement> after_;  // by pipeline count; declared after db_ (finalized first)
};

}  // namespace inlet::journal
