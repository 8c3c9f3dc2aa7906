// Dedup claims: which (pipeline, key) pairs were accepted, until their window ends.
//
// A claim is written to the journal's `claim_log` table in the same transaction as its event:
// an append at the end of a table, as cheap for a random key (a GitHub delivery GUID) as for a
// sequential one. The index that answers "is this key claimed?" has two tiers:
//
//   recent claims  an in-memory hash table over the claim_log rows (24 bytes a claim);
//   older claims   <journal>-claims.db: segments, each a B-tree by (pipeline, key), read
//                  through the view `claims` (their UNION ALL). Keys and event ids that are
//                  UUIDs in lower-case text are stored there as 16-byte BLOBs.
//
// A background thread (the flusher) moves claim_log rows into a new segment in large batches
// sorted by key, so that the B-tree is written once, leaf after leaf, and records how far it got
// (`flushed_seq`) in the same transaction. The writer then forgets those claims from memory and
// deletes them from claim_log. After a restart the memory tier is rebuilt from the claim_log rows
// past `flushed_seq`; a crash at any point loses no claim.
//
// Inserting a batch of random keys into one large B-tree instead would rewrite nearly every leaf
// of it per batch once it holds a million claims or so: bytes written per claim grow with the
// claims held. Segments keep that cost logarithmic, as in a log-structured merge tree: a second
// thread (the compactor) merges `merge_fan_in` segments of one size class (level) into one of
// the next, a bounded chunk per transaction into a segment marked `building` (invisible to
// lookups), then swaps it for its sources in one transaction. It leaves out expired claims as it
// merges, and drops a segment whose claims have all expired. A building segment left by a crash
// or a failed merge is dropped before the next merge and at a start; its sources are intact.
// A merge of large segments takes a while (a level of 4 million claims: seconds of CPU), and
// meanwhile smaller ones pile up behind it. Once a level holds twice `merge_fan_in` segments
// that no merge is reading, a third thread (catch-up) merges them, alongside the compactor's
// merge of other segments.
//
// A new key (with GitHub's random delivery ids, nearly every request) is in neither tier, and
// proving that in the segments costs a random page read in each. A Bloom filter over the keys in
// the claims database answers most of those lookups from memory (sized for twice the claims the
// database holds, at 10 bits each: about 1 % of new keys still read the segments). The
// flusher builds it after a start (until then every lookup reads the segments) and anew once more
// claims were added than it was sized for, by scanning a snapshot of the database a step at a
// time between flushes (a scan of millions of claims takes seconds, and claims would pile up in
// memory meanwhile); each flush adds its batch to the filter in use and to the one being built,
// before the writer may forget those claims. It never answers "absent" for a key the database
// holds (merges only move claims or leave out expired ones).
//
// Every method except the constructor, close(), flushNow() and the three threads' loops is called
// by the journal's writer thread with the journal's database lock held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journal/sqlite.h"

namespace inlet::journal {

// A Bloom filter of 64-bit key hashes. One thread adds while others read (the bits are
// atomic); a hash it was given is always reported present.
class ClaimFilter {
 public:
  explicit ClaimFilter(size_t capacity);  // sized for `capacity` hashes at about 1 % errors
  ~ClaimFilter();
  ClaimFilter(const ClaimFilter&) = delete;
  ClaimFilter& operator=(const ClaimFilter&) = delete;
  void add(uint64_t hash);
  bool mayContain(uint64_t hash) const;
  size_t capacity() const { return capacity_; }
  size_t added() const { return added_.load(std::memory_order_relaxed); }

 private:
  size_t capacity_, bits_;
  // Mapped pages of their own (zero until a bit is set): a filter that is replaced by a larger
  // one gives its memory back to the system at once, rather than to the allocator's caches.
  uint64_t* words_ = nullptr;
  std::atomic<size_t> added_{0};
};

class Claims {
 public:
  struct Options {
    size_t flush_claims = 65536;         // flush once this many claims are in memory
    int64_t flush_interval_ms = 60'000;  // ...or this long after the last flush
    int background_nice = 0;
    // Replaces the key hash (tests use a constant one: every claim collides).
    uint64_t (*hash)(const std::string& pipeline, const std::string& key) = nullptr;
    size_t filter_min_claims = 1 << 20;  // the smallest filter: for 1,048,576 claims (1.25 MiB)
    // Claims the flusher reads while it builds the filter before it looks for a flush to do.
    size_t filter_build_step = 65536;
    std::function<void()> before_filter_step;  // called by the flusher (tests)
    // Segments of one level merged at once. Level L holds segments of flush_claims * fan_in^L
    // claims or more (less than the next level's); a claim is rewritten about once per level.
    size_t merge_fan_in = 8;
    bool compactor = true;  // false: no compactor thread; merges wait for catch-up (tests)
    std::function<void()> before_merge_chunk;  // called by the merging thread (tests)
  };
  // `journal` is the writer's connection; `claim_log` must exist in it.
  Claims(Database& journal, const std::string& journal_path, Options options);
  ~Claims();
  Claims(const Claims&) = delete;

  static std::string pathFor(const std::string& journal_path);

  // The event id that holds a live claim on (pipeline, key), if any.
  std::optional<std::string> find(const std::string& pipeline, const std::string& key,
                                  int64_t now_ms);
  // Claims (pipeline, key) for the event `seq` inside the writer's open transaction.
  void add(const std::string& pipeline, const std::string& key, uint64_t seq,
           const std::string& event_id, int64_t expires_ms);

  // The writer's transaction, as the memory tier must follow it.
  void beginTransaction(int64_t now_ms);  // before the first add(); applies a finished flush
  void beginRequest();                    // a savepoint per request
  void rollbackRequest();                 // that savepoint was rolled back
  void committed();
  void rolledBack();

  // Claims in the memory tier as of the last commit (any thread).
  size_t inMemory() const { return in_memory_.load(std::memory_order_relaxed); }
  uint64_t flushFailures() const { return flush_failures_.load(std::memory_order_relaxed); }
  uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }  // committed
  // Moves every claim committed so far now, and waits for it; builds the filter anew when it is
  // full, as the flusher does after a flush; then runs every merge that is due, after any the
  // catch-up thread or the compactor had begun (tests).
  void flushNow();
  uint64_t merges() const { return merges_.load(std::memory_order_relaxed); }  // swapped in
  uint64_t mergeFailures() const { return merge_failures_.load(std::memory_order_relaxed); }
  // Whether the filter over the claims database is built, and how many lookups read the
  // database's B-tree (tests and diagnostics).
  bool filterReady() const;
  uint64_t indexLookups() const { return index_lookups_.load(std::memory_order_relaxed); }
  void close();

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    uint64_t seq = 0;
    int64_t expires_ms = 0;  // 0: removed (still part of a probe chain)
  };
  uint64_t hashOf(std::string_view pipeline, std::string_view key) const;
  // Under run_mutex_: starts building the filter anew when there is none or it is full, or
  // takes the next step (`rows` claims) of the build under way, and publishes the filter once
  // it is built; true while a build is under way.
  bool buildFilterStep(size_t rows);
  bool filterFull() const;  // under run_mutex_: time to build it anew
  void insertSlot(uint64_t hash, uint64_t seq, int64_t expires_ms);
  void removeSlot(uint64_t hash, uint64_t seq);
  void rebuild(uint64_t drop_upto, int64_t now_ms);  // drops flushed and expired claims
  void load(uint64_t after_seq, int64_t now_ms);
  void flusherLoop();
  // The compactor ("inlet-compact": merges at `merge_fan_in` segments a level) and catch-up
  // ("inlet-catchup": at twice that, what piles up behind the compactor's merge): each on its
  // connection `db`, under `mutex`, woken through `wanted` by each flush.
  void mergeLoop(const char* name, Database& db, std::mutex& mutex, bool& wanted, size_t at_least);
  // On `db`, the connection of the caller (the compactor or flushNow under merge_mutex_, the
  // catch-up thread under catch_up_mutex_): drops abandoned and expired segments, then merges
  // `merge_fan_in` segments of the lowest level that has `at_least` which no other merge reads;
  // true when it merged (another may be due).
  bool compactOnce(Database& db, size_t at_least);
  // Merges `sources` into `target` (a building segment); false when the journal closes first.
  bool merge(Database& db, const std::vector<int64_t>& sources, int64_t target);
  size_t fanIn() const;
  int levelOf(int64_t claims) const;
  void sizeSegment(int64_t id);  // sets its level, claims and max_expires from its rows
  bool stopping();
  // Sets the `wanted` flags (of flush_mutex_) and wakes the threads waiting on `cv`.
  void wake(std::condition_variable& cv, std::initializer_list<bool*> wanted);
  // Moves up to one batch (twice `flush_claims`) into the claims database; true when claims
  // past it remain.
  bool flushOnce();
  // Every write transaction of a merge (or compaction) on `db`, running `body`. A flush goes
  // before it to the claims database's write lock: SQLite gives the lock to whoever asks first
  // once it is free (a connection that finds it taken sleeps and retries), so a merge that
  // commits a chunk and at once begins the next would keep a flush waiting until it is done
  // (seconds, for large segments) while the claims pile up in memory. The flusher says when it
  // wants the lock, and this waits for it before it begins.
  void mergeTransaction(Database& db, const std::function<void()>& body);

  Database& journal_;
  std::string path_, journal_path_;
  Options options_;
  Statement log_insert_, log_lookup_, log_delete_;
  std::unique_ptr<Database> index_;  // the writer's read connection to the claims database
  Statement index_lookup_, index_begin_, index_end_;
  // One read transaction on the claims database per group commit, from its first lookup to its
  // end, instead of one per lookup (each of which takes and drops file locks).
  bool index_reading_ = false;
  void endIndexRead();
  std::unique_ptr<Database> flush_db_;   // the flusher's; the journal attached as `j`
  std::mutex run_mutex_;                 // one flush at a time (flusher or flushNow)
  std::shared_ptr<ClaimFilter> filter_;  // under run_mutex_: the one flushes add to
  // A filter being built (under run_mutex_): a scan of the claims database's snapshot, on a
  // connection of its own, a step at a time between flushes; they add their claims to it too.
  struct FilterBuild;
  std::unique_ptr<FilterBuild> filter_build_;
  mutable std::mutex filter_mutex_;
  std::shared_ptr<const ClaimFilter> published_filter_;  // under filter_mutex_
  std::shared_ptr<const ClaimFilter> writer_filter_;     // the writer's, taken per transaction
  std::atomic<uint64_t> index_lookups_{0};
  int64_t now_ms_ = 0;  // the open transaction's time
  bool flush_requested_ = false;

  std::vector<Slot> slots_;
  size_t used_ = 0, live_ = 0;  // used: non-empty slots; live: claims not removed
  struct Pending {
    uint64_t hash, seq;
  };
  std::vector<Pending> pending_;  // added in the open transaction
  size_t request_mark_ = 0;
  uint64_t applied_seq_ = 0;       // flushed claims already dropped from memory
  bool log_rows_flushed_ = false;  // claim_log may hold rows up to applied_seq_

  std::atomic<uint64_t> flushed_seq_{0};
  std::atomic<size_t> in_memory_{0};
  std::atomic<uint64_t> flush_failures_{0}, flushes_{0};
  std::unique_ptr<Database> merge_db_;  // the compactor's
  std::mutex merge_mutex_;              // one compaction at a time (compactor or flushNow)
  std::atomic<uint64_t> merges_{0}, merge_failures_{0};
  // Segments a merge reads or builds, or a compaction drops: no other one touches them. Held
  // while choosing them and creating the target; never taken inside a transaction.
  std::mutex busy_mutex_;
  std::set<int64_t> busy_;

  std::mutex flush_mutex_;                       // the threads' wake-up flags and stop_
  std::condition_variable flush_cv_, merge_cv_;  // merge_cv_: the compactor and catch-up
  bool flush_wanted_ = false, merge_wanted_ = false, catch_up_wanted_ = false, stop_ = false;
  std::unique_ptr<Database> catch_up_db_;
  std::mutex catch_up_mutex_;  // one catch-up at a time (the catch-up thread or flushNow)
  std::mutex turn_mutex_;
  std::condition_variable turn_cv_;
  int flushes_waiting_ = 0;  // under turn_mutex_
  std::thread flusher_, compactor_, catch_up_;
};

}  // namespace inlet::journal
