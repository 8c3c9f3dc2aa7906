#include "journal/claims.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <new>
#include <string_view>
#include <tuple>
#include <vector>

#include "util/ids.h"
#include "util/log.h"
#include "util/memory.h"
#include "util/thread.h"

namespace inlet::journal {

namespace {

const char* kIndexSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE IF NOT EXISTS segments(
  id INTEGER PRIMARY KEY AUTOINCREMENT, level INTEGER NOT NULL, claims INTEGER NOT NULL,
  max_expires INTEGER NOT NULL, building INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS state(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
)sql";

constexpr size_t kMinSlots = 1024;
// Free memory the allocator may keep after a flush (see flusherLoop): about what one flush
// cycle allocates and frees under load (its batch, and the writer's new hash table).
constexpr size_t kFreeMemoryKept = size_t{16} << 20;
constexpr int64_t kDeleteSlice = 512;  // flushed claim_log rows deleted per group commit

int64_t scalar(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  return st.step() ? st.integer(0) : 0;
}

// Binds a key or event id as stored: `bytes` a BLOB when packed, else text.
void bindId(Statement& st, int i, std::string_view bytes, bool packed) {
  if (packed)
    st.bindBlob(i, bytes);
  else
    st.bind(i, bytes);
}

// A key or event id that is a UUID in its canonical lower-case text form (GitHub's delivery
// ids; every event id) is stored in the segments as its 16 bytes, a BLOB, instead of 36
// characters: a claim takes about half the bytes, and so does every flush and merge that writes
// it. Any other text is stored as it is. Packing is one-to-one (an upper-case UUID stays text),
// so a key is found by packing it as it was packed when stored; and among UUIDs, the order of
// the bytes is the order of the text.
class StoredId {
 public:
  explicit StoredId(std::string_view text) : text_(text), packed_(util::parseUuid(text, bytes_)) {}
  bool packed() const { return packed_; }
  // As stored: the 16 bytes, or the text.
  std::string_view stored() const {
    return packed_ ? std::string_view(reinterpret_cast<const char*>(bytes_), 16) : text_;
  }
  // Binds it as stored (valid while this object and the text it was made from are).
  void bind(Statement& st, int i) const { bindId(st, i, stored(), packed_); }

 private:
  std::string_view text_;
  unsigned char bytes_[16] = {};
  bool packed_;
};

// The text of a stored key or event id (column `col` of `st`).
std::string idText(const Statement& st, int col) {
  const std::string_view v = st.view(col);
  if (!st.isBlob(col) || v.size() != 16) return std::string(v);
  return util::uuidText(reinterpret_cast<const unsigned char*>(v.data()));
}

// inlet_pack_id(x): x as a segment stores it (for claims written before ids were packed).
void packIdFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const StoredId id(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))));
    if (id.packed()) {
      sqlite3_result_blob(ctx, id.stored().data(), 16, SQLITE_TRANSIENT);
      return;
    }
  }
  sqlite3_result_value(ctx, argv[0]);
}

// Segment `id` is the table main.claims_<id>.
std::string segmentTable(int64_t id) { return "main.claims_" + std::to_string(id); }

// The first column of every row of `sql`.
std::vector<int64_t> ids(sqlite3* db, const char* sql) {
  Statement st(db, sql);
  std::vector<int64_t> out;
  while (st.step()) out.push_back(st.integer(0));
  return out;
}

// Registers a segment; returns its id (inside a write transaction).
int64_t registerSegment(Database& db, int level, int64_t claims, int64_t max_expires,
                        bool building) {
  Statement add(db.get(),
                "INSERT INTO main.segments(level, claims, max_expires, building) "
                "VALUES(?1, ?2, ?3, ?4)");
  add.bind(1, int64_t{level}).bind(2, claims).bind(3, max_expires).bind(4, int64_t{building});
  add.step();
  return sqlite3_last_insert_rowid(db.get());
}

// ...and creates its table.
int64_t createSegment(Database& db, int level, int64_t claims, int64_t max_expires, bool building) {
  const int64_t id = registerSegment(db, level, claims, max_expires, building);
  db.exec(("CREATE TABLE " + segmentTable(id) +
           "(pipeline TEXT NOT NULL, key TEXT NOT NULL, event_id TEXT NOT NULL, "
           "expires_at INTEGER NOT NULL, PRIMARY KEY(pipeline, key)) WITHOUT ROWID")
              .c_str());
  return id;
}

void dropSegment(Database& db, int64_t id) {
  db.exec(("DROP TABLE IF EXISTS " + segmentTable(id)).c_str());
  Statement drop(db.get(), "DELETE FROM main.segments WHERE id = ?1");
  drop.bind(1, id);
  drop.step();
}

// (Re)creates the view `claims` over the segments lookups may read (inside a write transaction).
void writeView(Database& db) {
  std::string sql = "DROP VIEW IF EXISTS main.claims; CREATE VIEW main.claims AS ";
  auto segments = ids(db.get(), "SELECT id FROM main.segments WHERE building = 0 ORDER BY id DESC");
  if (segments.empty())
    sql += "SELECT '' AS pipeline, '' AS key, '' AS event_id, 0 AS expires_at WHERE 0";
  for (size_t i = 0; i < segments.size(); ++i)
    sql += (i ? " UNION ALL " : "") +
           std::string("SELECT pipeline, key, event_id, expires_at FROM ") +
           segmentTable(segments[i]).substr(5);  // a view names tables of its own schema
  db.exec(sql.c_str());
}

}  // namespace

ClaimFilter::ClaimFilter(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
  // 10 bits a hash (in whole words) and 7 probes: about 1 % false positives.
  bits_ = (capacity_ * 10 + 63) / 64 * 64;
  void* p = ::mmap(nullptr, bits_ / 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  words_ = static_cast<uint64_t*>(p);
}

ClaimFilter::~ClaimFilter() { ::munmap(words_, bits_ / 8); }

namespace {

constexpr int kFilterProbes = 7;
// The largest filter: 60 MiB, for 50 million claims. Past that the filter lets more new keys
// through to the database, and is built anew only once it took twice as many.
constexpr size_t kMaxFilterClaims = 50'000'000;

// The second hash of double hashing (odd, so that the probes never repeat a cycle early).
uint64_t step(uint64_t hash) {
  uint64_t z = hash + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return (z ^ (z >> 31)) | 1;
}

}  // namespace

void ClaimFilter::add(uint64_t hash) {
  const uint64_t delta = step(hash);
  for (int i = 0; i < kFilterProbes; ++i, hash += delta) {
    const size_t bit = hash % bits_;
    std::atomic_ref<uint64_t>(words_[bit / 64])
        .fetch_or(uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
  added_.fetch_add(1, std::memory_order_relaxed);
}

bool ClaimFilter::mayContain(uint64_t hash) const {
  const uint64_t delta = step(hash);
  for (int i = 0; i < kFilterProbes; ++i, hash += delta) {
    const size_t bit = hash % bits_;
    if (!(std::atomic_ref<uint64_t>(words_[bit / 64]).load(std::memory_order_relaxed) &
          (uint64_t{1} << (bit % 64))))
      return false;
  }
  return true;
}

std::string Claims::pathFor(const std::string& journal_path) {
  const std::string ext = ".db";
  if (journal_path.size() > ext.size() &&
      journal_path.compare(journal_path.size() - ext.size(), ext.size(), ext) == 0)
    return journal_path.substr(0, journal_path.size() - ext.size()) + "-claims.db";
  return journal_path + "-claims";
}

Claims::Claims(Database& journal, const std::string& journal_path, Options options)
    : journal_(journal),
      path_(pathFor(journal_path)),
      journal_path_(journal_path),
      options_(options) {
  flush_db_ = std::make_unique<Database>(path_, false, Writes::Paced);
  flush_db_->exec(kIndexSchema);
  if (sqlite3_create_function_v2(flush_db_->get(), "inlet_pack_id", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, packIdFunction,
                                 nullptr, nullptr, nullptr) != SQLITE_OK)
    throw SqliteError("cannot register inlet_pack_id: " +
                      std::string(sqlite3_errmsg(flush_db_->get())));
  // Before the journal is attached: the names below are the claims database's alone.
  flush_db_->transaction("BEGIN IMMEDIATE", [&] {
    // Claims databases written before segments held one `claims` table: it becomes a segment.
    if (scalar(
            flush_db_->get(),
            "SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'claims'")) {
      const int64_t id = registerSegment(*flush_db_, 0, 0, 0, false);
      flush_db_->exec(("DROP INDEX IF EXISTS main.claims_expires; ALTER TABLE main.claims "
                       "RENAME TO " +
                       segmentTable(id).substr(5))
                          .c_str());
      sizeSegment(id);
    }
    // A merge that a crash interrupted: its sources are intact.
    for (int64_t id : ids(flush_db_->get(), "SELECT id FROM main.segments WHERE building = 1"))
      dropSegment(*flush_db_, id);
    // Segments written before ids were packed are rewritten packed, once.
    if (!scalar(flush_db_->get(), "SELECT count(*) FROM main.state WHERE name = 'packed_ids'")) {
      const int64_t held =
          scalar(flush_db_->get(), "SELECT coalesce(sum(claims), 0) FROM main.segments");
      if (held > 0)
        log::info("journal: " + path_ + ": storing the ids of " + std::to_string(held) +
                  " dedup claims packed (once)");
      for (int64_t old : ids(flush_db_->get(), "SELECT id FROM main.segments")) {
        const int64_t id = createSegment(*flush_db_, 0, 0, 0, false);
        flush_db_->exec(("INSERT INTO " + segmentTable(id) +
                         " SELECT pipeline, inlet_pack_id(key), inlet_pack_id(event_id), "
                         "expires_at FROM " +
                         segmentTable(old))
                            .c_str());
        dropSegment(*flush_db_, old);
        sizeSegment(id);
      }
      flush_db_->exec("INSERT INTO main.state(name, value) VALUES('packed_ids', 1)");
    }
    writeView(*flush_db_);
  });
  {
    Statement attach(flush_db_->get(), "ATTACH DATABASE ?1 AS j");
    attach.bind(1, journal_path_);
    attach.step();
  }
  int64_t now = util::nowMs();
  uint64_t flushed = static_cast<uint64_t>(
      scalar(flush_db_->get(), "SELECT value FROM state WHERE name = 'flushed_seq'"));
  // Sequence numbers never go back within one journal: a larger mark means this claims
  // database outlived the journal it was made for. Its claims stay valid; the mark does not.
  auto journal_seq = static_cast<uint64_t>(
      scalar(journal_.get(),
             "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"));
  if (flushed > journal_seq) {
    log::warn("journal: " + path_ + " was written for another journal; its flush mark is reset");
    flushed = 0;
    Statement reset(flush_db_->get(),
                    "INSERT OR REPLACE INTO state(name, value) VALUES('flushed_seq', 0)");
    reset.step();
  }
  // Journals written before claims had their own database kept them in a `dedup` table.
  if (scalar(journal_.get(),
             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'dedup'")) {
    flush_db_->transaction("BEGIN", [&] {
      const int64_t id = createSegment(*flush_db_, 0, 0, 0, false);
      Statement copy(flush_db_->get(), ("INSERT INTO " + segmentTable(id) +
                                        " SELECT pipeline, inlet_pack_id(key), "
                                        "inlet_pack_id(event_id), expires_at FROM j.dedup "
                                        "WHERE expires_at > ?1")
                                           .c_str());
      copy.bind(1, now);
      copy.step();
      sizeSegment(id);
      writeView(*flush_db_);
    });
    journal_.exec("DROP TABLE dedup");
  }
  flushed_seq_ = flushed;
  applied_seq_ = flushed;
  log_rows_flushed_ = true;  // some may be left from before the restart

  log_insert_ = Statement(journal_.get(),
                          "INSERT INTO claim_log(seq, pipeline, key, event_id, expires_at) "
                          "VALUES(?1, ?2, ?3, ?4, ?5)");
  log_lookup_ =
      Statement(journal_.get(), "SELECT pipeline, key, event_id FROM claim_log WHERE seq = ?1");
  log_delete_ = Statement(journal_.get(),
                          "DELETE FROM claim_log WHERE seq IN "
                          "(SELECT seq FROM claim_log WHERE seq <= ?1 ORDER BY seq LIMIT ?2)");
  index_ = std::make_unique<Database>(path_, false);
  index_lookup_ = Statement(index_->get(),
                            "SELECT event_id FROM claims WHERE pipeline = ?1 AND key = ?2 "
                            "AND expires_at > ?3");
  index_begin_ = Statement(index_->get(), "BEGIN");
  index_end_ = Statement(index_->get(), "COMMIT");
  load(flushed, now);
  in_memory_ = live_;
  merge_db_ = std::make_unique<Database>(path_, false, Writes::Paced);
  catch_up_db_ = std::make_unique<Database>(path_, false, Writes::Paced);
  flusher_ = std::thread([this] { flusherLoop(); });
  if (options_.compactor)
    compactor_ = std::thread(
        [this] { mergeLoop("inlet-compact", *merge_db_, merge_mutex_, merge_wanted_, fanIn()); });
  catch_up_ = std::thread([this] {
    mergeLoop("inlet-catchup", *catch_up_db_, catch_up_mutex_, catch_up_wanted_, 2 * fanIn());
  });
}

int Claims::levelOf(int64_t claims) const {
  const auto fan_in = static_cast<int64_t>(std::max<size_t>(options_.merge_fan_in, 2));
  int level = 0;
  for (auto size = static_cast<int64_t>(std::max<size_t>(options_.flush_claims, 1)) * fan_in;
       claims >= size && level < 40; size *= fan_in)
    ++level;
  return level;
}

void Claims::sizeSegment(int64_t id) {
  sqlite3* db = flush_db_->get();
  const std::string table = segmentTable(id);
  const int64_t claims = scalar(db, ("SELECT count(*) FROM " + table).c_str());
  Statement size(
      db, "UPDATE main.segments SET level = ?2, claims = ?3, max_expires = ?4 WHERE id = ?1");
  size.bind(1, id)
      .bind(2, int64_t{levelOf(claims)})
      .bind(3, claims)
      .bind(4, scalar(db, ("SELECT coalesce(max(expires_at), 0) FROM " + table).c_str()));
  size.step();
}

Claims::~Claims() { close(); }

void Claims::close() {
  {
    std::lock_guard<std::mutex> lock(flush_mutex_);
    stop_ = true;
  }
  flush_cv_.notify_all();
  merge_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (compactor_.joinable()) compactor_.join();
  if (catch_up_.joinable()) catch_up_.join();
}

void Claims::wake(std::condition_variable& cv, std::initializer_list<bool*> wanted) {
  {
    std::lock_guard<std::mutex> lock(flush_mutex_);
    for (bool* flag : wanted) *flag = true;
  }
  cv.notify_all();
}

void Claims::mergeTransaction(Database& db, const std::function<void()>& body) {
  {
    std::unique_lock<std::mutex> lock(turn_mutex_);
    turn_cv_.wait(lock, [&] { return flushes_waiting_ == 0; });
  }
  db.transaction("BEGIN IMMEDIATE", body);
}

bool Claims::stopping() {
  std::lock_guard<std::mutex> lock(flush_mutex_);
  return stop_;
}

uint64_t Claims::hashOf(std::string_view pipeline, std::string_view key) const {
  uint64_t v;
  if (options_.hash) {
    v = options_.hash(std::string(pipeline), std::string(key));
  } else {
    std::hash<std::string_view> h;
    v = h(key) ^ (h(pipeline) * 0x9E3779B97F4A7C15ULL);
  }
  return v ? v : 1;  // 0 marks an empty slot
}

void Claims::load(uint64_t after_seq, int64_t now_ms) {
  Statement st(journal_.get(),
               "SELECT seq, pipeline, key, expires_at FROM claim_log "
               "WHERE seq > ?1 AND expires_at > ?2 ORDER BY seq");
  st.bind(1, static_cast<int64_t>(after_seq)).bind(2, now_ms);
  now_ms_ = now_ms;
  while (st.step())
    insertSlot(hashOf(st.text(1), st.text(2)), static_cast<uint64_t>(st.integer(0)), st.integer(3));
}

void Claims::insertSlot(uint64_t hash, uint64_t seq, int64_t expires_ms) {
  if ((used_ + 1) * 2 > slots_.size()) rebuild(applied_seq_, now_ms_);
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    // A removed or expired slot is reused; lookups walk past both.
    if (s.hash == 0 || s.expires_ms <= now_ms_) {
      if (s.hash == 0) ++used_;
      if (s.hash == 0 || s.expires_ms == 0) ++live_;
      s = Slot{hash, seq, expires_ms};
      return;
    }
  }
}

void Claims::removeSlot(uint64_t hash, uint64_t seq) {
  if (slots_.empty()) return;
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i].hash; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.hash == hash && s.seq == seq && s.expires_ms != 0) {
      s.expires_ms = 0;
      --live_;
      return;
    }
  }
}

void Claims::rebuild(uint64_t drop_upto, int64_t now_ms) {
  std::vector<Slot> old;
  old.swap(slots_);
  auto kept = [&](const Slot& s) { return s.hash && s.seq > drop_upto && s.expires_ms > now_ms; };
  size_t keep = std::count_if(old.begin(), old.end(), kept);
  size_t size = kMinSlots;
  while (size < keep * 4) size *= 2;
  slots_.assign(size, Slot{});
  used_ = live_ = 0;
  size_t mask = size - 1;
  for (const Slot& s : old) {
    if (!kept(s)) continue;
    size_t i = s.hash & mask;
    while (slots_[i].hash) i = (i + 1) & mask;
    slots_[i] = s;
    ++used_;
    ++live_;
  }
}

std::optional<std::string> Claims::find(const std::string& pipeline, const std::string& key,
                                        int64_t now_ms) {
  uint64_t hash = hashOf(pipeline, key);
  if (!slots_.empty()) {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask; slots_[i].hash; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.hash != hash || s.expires_ms <= now_ms) continue;
      // Equal hashes are checked against the claim itself.
      log_lookup_.bind(1, static_cast<int64_t>(s.seq));
      std::optional<std::string> id;
      if (log_lookup_.step() && log_lookup_.text(0) == pipeline && log_lookup_.text(1) == key)
        id = log_lookup_.text(2);
      log_lookup_.reset();
      if (id) return id;
    }
  }
  // Not in memory. A key the filter has never seen is not in the claims database either.
  if (writer_filter_ && !writer_filter_->mayContain(hash)) return std::nullopt;
  index_lookups_.fetch_add(1, std::memory_order_relaxed);
  if (!index_reading_) {
    // Taken after beginTransaction() applied the last finished flush, so the snapshot holds
    // every claim that memory has forgotten.
    index_begin_.step();
    index_begin_.reset();
    index_reading_ = true;
  }
  const StoredId stored(key);
  index_lookup_.bind(1, pipeline).bind(3, now_ms);
  stored.bind(index_lookup_, 2);
  std::optional<std::string> id;
  if (index_lookup_.step()) id = idText(index_lookup_, 0);
  index_lookup_.reset();
  return id;
}

void Claims::add(const std::string& pipeline, const std::string& key, uint64_t seq,
                 const std::string& event_id, int64_t expires_ms) {
  log_insert_.bind(1, static_cast<int64_t>(seq))
      .bind(2, pipeline)
      .bind(3, key)
      .bind(4, event_id)
      .bind(5, expires_ms);
  log_insert_.step();
  log_insert_.reset();
  uint64_t hash = hashOf(pipeline, key);
  insertSlot(hash, seq, expires_ms);
  pending_.push_back({hash, seq});
}

void Claims::beginTransaction(int64_t now_ms) {
  now_ms_ = now_ms;
  pending_.clear();
  request_mark_ = 0;
  uint64_t flushed = flushed_seq_.load();
  // Taken after reading the flush mark: a filter published before a flush that the mark covers
  // holds that flush's claims, so the claims forgotten below are in the filter used with it.
  {
    std::lock_guard<std::mutex> lock(filter_mutex_);
    writer_filter_ = published_filter_;
  }
  if (flushed > applied_seq_) {
    // Those claims are in the claims database now: forget them here.
    rebuild(flushed, now_ms);
    applied_seq_ = flushed;
    flush_requested_ = false;
    log_rows_flushed_ = true;
  }
  if (log_rows_flushed_) {
    // ...and delete their claim_log rows a slice per commit, so that no single group commit
    // (which requests wait for) carries a whole flush's deletes. A slice rolled back with its
    // transaction is deleted again by a later one.
    log_delete_.bind(1, static_cast<int64_t>(applied_seq_)).bind(2, kDeleteSlice);
    log_delete_.step();
    log_delete_.reset();
    log_rows_flushed_ = journal_.changes() == kDeleteSlice;
  }
}

void Claims::beginRequest() { request_mark_ = pending_.size(); }

void Claims::rollbackRequest() {
  for (size_t i = request_mark_; i < pending_.size(); ++i)
    removeSlot(pending_[i].hash, pending_[i].seq);
  pending_.resize(request_mark_);
}

void Claims::endIndexRead() {
  if (!index_reading_) return;
  index_reading_ = false;
  try {
    index_end_.step();
    index_end_.reset();
  } catch (const std::exception&) {
    sqlite3_exec(index_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Claims::committed() {
  endIndexRead();
  pending_.clear();
  request_mark_ = 0;
  in_memory_.store(live_, std::memory_order_relaxed);
  if (!flush_requested_ && live_ >= options_.flush_claims) {
    flush_requested_ = true;
    wake(flush_cv_, {&flush_wanted_});
  }
}

void Claims::rolledBack() {
  endIndexRead();
  request_mark_ = 0;
  rollbackRequest();
  in_memory_.store(live_, std::memory_order_relaxed);
}

void Claims::flushNow() {
  std::lock_guard<std::mutex> run(run_mutex_);
  while (flushOnce()) {
  }
  if (filter_build_ || (filter_ && filterFull())) {
    while (buildFilterStep(std::numeric_limits<size_t>::max())) {
    }
  }
  // After the merges in flight (the catch-up thread's, the compactor's).
  std::lock_guard<std::mutex> catching_up(catch_up_mutex_);
  std::lock_guard<std::mutex> merging(merge_mutex_);
  while (compactOnce(*merge_db_, fanIn())) {
  }
}

size_t Claims::fanIn() const { return std::max<size_t>(options_.merge_fan_in, 2); }

void Claims::mergeLoop(const char* name, Database& db, std::mutex& mutex, bool& wanted,
                       size_t at_least) {
  util::nameThread(name);
  util::lowerThreadPriority(options_.background_nice);
  std::unique_lock<std::mutex> lock(flush_mutex_);
  for (;;) {
    // Woken by each flush; at least once a flush interval, for the segments that expired.
    merge_cv_.wait_for(lock, std::chrono::milliseconds(options_.flush_interval_ms),
                       [&] { return wanted || stop_; });
    if (stop_) return;
    wanted = false;
    lock.unlock();
    try {
      std::lock_guard<std::mutex> merging(mutex);
      while (compactOnce(db, at_least)) {
      }
    } catch (const std::exception& e) {
      // Not fatal: the sources stay as they were, and the next flush or interval retries.
      merge_failures_.fetch_add(1, std::memory_order_relaxed);
      log::warn(std::string("journal: dedup claims segments could not be merged: ") + e.what());
    }
    lock.lock();
  }
}

bool Claims::compactOnce(Database& db, size_t at_least) {
  const int64_t now = util::nowMs();
  std::vector<int64_t> gone, sources;
  int64_t target = 0;
  {
    std::lock_guard<std::mutex> lock(busy_mutex_);
    // Segments that nothing reads: a merge abandoned (by a failure) and those whose claims have
    // all expired. Of the others, by level in the order they were made.
    std::map<int64_t, std::vector<int64_t>> levels;
    {
      Statement all(db.get(), "SELECT id, level, max_expires, building FROM main.segments");
      while (all.step()) {
        const int64_t id = all.integer(0);
        if (busy_.count(id)) continue;
        if (all.integer(3) != 0 || all.integer(2) <= now)
          gone.push_back(id);
        else
          levels[all.integer(1)].push_back(id);
      }
    }
    for (auto& [level, list] : levels)
      if (list.size() >= at_least) {
        std::sort(list.begin(), list.end());
        sources.assign(list.begin(), list.begin() + static_cast<ptrdiff_t>(fanIn()));
        break;
      }
    if (stopping()) sources.clear();
    if (gone.empty() && sources.empty()) return false;
    mergeTransaction(db, [&] {
      for (int64_t id : gone) dropSegment(db, id);
      if (!gone.empty()) writeView(db);
      if (!sources.empty()) target = createSegment(db, 0, 0, 0, true);
    });
    if (sources.empty()) return false;
    busy_.insert(sources.begin(), sources.end());
    busy_.insert(target);
  }
  struct Release {
    Claims& claims;
    std::vector<int64_t> ids;
    ~Release() {
      std::lock_guard<std::mutex> lock(claims.busy_mutex_);
      for (int64_t id : ids) claims.busy_.erase(id);
    }
  } release{*this, sources};
  release.ids.push_back(target);
  return merge(db, sources, target);
}

bool Claims::merge(Database& db, const std::vector<int64_t>& sources, int64_t target) {
  sqlite3* d = db.get();
  const int64_t now = util::nowMs();
  // Each source is read in key order from where the last chunk ended; the live claims of all of
  // them are merged into the target in key order, so that its B-tree is written leaf after leaf.
  std::vector<Statement> reads;
  for (int64_t id : sources)
    reads.emplace_back(d, ("SELECT pipeline, key, event_id, expires_at FROM " + segmentTable(id) +
                           " WHERE (pipeline, key) > (?1, ?2) AND expires_at > ?3 "
                           "ORDER BY pipeline, key")
                              .c_str());
  Statement insert(d, ("INSERT INTO " + segmentTable(target) +
                       "(pipeline, key, event_id, expires_at) VALUES(?1, ?2, ?3, ?4)")
                          .c_str());
  const size_t chunk = std::max<size_t>(options_.flush_claims, 1);
  std::string after_pipeline, after_key;  // ('', '') sorts before every claim
  bool after_packed = false;
  int64_t merged = 0, max_expires = 0;
  // Each source's current row (its text valid until that source steps again).
  struct Head {
    bool has = false;
    // Pipeline, whether the key is packed, key: the segments' order (text before BLOB).
    std::tuple<std::string_view, bool, std::string_view> key;
    int64_t expires_at = 0;
  };
  std::vector<Head> heads(reads.size());
  auto advance = [&](size_t i) {
    Head& h = heads[i];
    h.has = reads[i].step();
    if (h.has) {
      h.key = {reads[i].view(0), reads[i].isBlob(1), reads[i].view(1)};
      h.expires_at = reads[i].integer(3);
    }
  };
  for (bool done = false; !done;) {
    if (stopping()) return false;  // the building segment is dropped at the next start
    if (options_.before_merge_chunk) options_.before_merge_chunk();
    mergeTransaction(db, [&] {
      for (size_t i = 0; i < reads.size(); ++i) {
        reads[i].bind(1, after_pipeline).bind(3, now);
        bindId(reads[i], 2, after_key, after_packed);
        advance(i);
      }
      std::string last_pipeline, last_key;
      bool last_packed = false;
      size_t written = 0;
      for (;;) {
        // The smallest key; of equal ones (two live claims, as a clock set back can leave), the
        // one that lasts longer. An expired claim is not read at all.
        size_t min = reads.size();
        for (size_t i = 0; i < reads.size(); ++i) {
          const Head& h = heads[i];
          if (h.has && (min == reads.size() || h.key < heads[min].key ||
                        (h.key == heads[min].key && h.expires_at > heads[min].expires_at)))
            min = i;
        }
        if (min == reads.size()) {
          done = true;
          break;
        }
        const Head& m = heads[min];
        const auto& [pipeline, packed, key] = m.key;
        insert.bind(1, pipeline).bind(4, m.expires_at);
        bindId(insert, 2, key, packed);
        sqlite3_bind_value(insert.get(), 3, sqlite3_column_value(reads[min].get(), 2));  // as is
        insert.step();
        insert.reset();
        max_expires = std::max(max_expires, m.expires_at);
        ++merged;
        if (++written == chunk) {
          last_pipeline = pipeline;
          last_key = key;
          last_packed = packed;
        }
        // The other sources move past this key before `min` (whose row it is) does.
        for (size_t i = 0; i < reads.size(); ++i)
          if (i != min && heads[i].has && heads[i].key == m.key) advance(i);
        advance(min);
        if (written == chunk) break;
      }
      for (auto& read : reads) read.reset();  // before the bound strings change
      after_pipeline = std::move(last_pipeline);
      after_key = std::move(last_key);
      after_packed = last_packed;
    });
  }
  mergeTransaction(db, [&] {
    for (int64_t id : sources) dropSegment(db, id);
    if (merged == 0) {
      dropSegment(db, target);
    } else {
      Statement done(d,
                     "UPDATE main.segments SET building = 0, level = ?2, claims = ?3, "
                     "max_expires = ?4 WHERE id = ?1");
      done.bind(1, target).bind(2, int64_t{levelOf(merged)}).bind(3, merged).bind(4, max_expires);
      done.step();
    }
    writeView(db);
  });
  merges_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool Claims::filterFull() const {
  const size_t capacity = filter_->capacity();
  return filter_->added() > (capacity >= kMaxFilterClaims ? 2 * capacity : capacity);
}

bool Claims::filterReady() const {
  std::lock_guard<std::mutex> lock(filter_mutex_);
  return published_filter_ != nullptr;
}

struct Claims::FilterBuild {
  std::shared_ptr<ClaimFilter> filter;
  std::unique_ptr<Database> db;
  Statement scan;  // before `db` is closed
};

bool Claims::buildFilterStep(size_t rows) {
  if (!filter_build_) {
    if (filter_ && !filterFull()) return false;
    auto build = std::make_unique<FilterBuild>();
    build->db = std::make_unique<Database>(path_, false);
    sqlite3* db = build->db->get();
    // Expired claims too: they stay until a merge leaves them out or their segment expired.
    const auto held = static_cast<size_t>(
        scalar(db, "SELECT coalesce(sum(claims), 0) FROM main.segments WHERE building = 0"));
    build->filter = std::make_shared<ClaimFilter>(
        std::min(kMaxFilterClaims, std::max(options_.filter_min_claims, 2 * held)));
    build->scan = Statement(db, "SELECT pipeline, key FROM main.claims");
    // From here on flushes add to it; the scan's snapshot is taken at its first step, after: a
    // claim is in one or both.
    filter_build_ = std::move(build);
  }
  if (options_.before_filter_step) options_.before_filter_step();
  FilterBuild& build = *filter_build_;
  for (size_t n = 0; n < rows; ++n) {
    if (!build.scan.step()) {
      filter_ = build.filter;
      {
        std::lock_guard<std::mutex> lock(filter_mutex_);
        published_filter_ = build.filter;
      }
      filter_build_.reset();
      return false;
    }
    build.filter->add(build.scan.isBlob(1) ? hashOf(build.scan.view(0), idText(build.scan, 1))
                                           : hashOf(build.scan.view(0), build.scan.view(1)));
  }
  return true;
}

void Claims::flusherLoop() {
  util::nameThread("inlet-claims");
  util::lowerThreadPriority(options_.background_nice);
  std::unique_lock<std::mutex> lock(flush_mutex_);
  int64_t wait_ms = options_.flush_interval_ms, retry_ms = 0;
  // Until the filter is built every lookup reads the claims database, as without one; its
  // build starts at once. While one is under way the flusher does not wait: it flushes when a
  // flush is wanted, and otherwise reads the next step of claims.
  bool building = true, more = false;
  for (;;) {
    if (!building && !more)
      flush_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                         [&] { return flush_wanted_ || stop_; });
    if (stop_) break;
    const bool flush = flush_wanted_ || more || !building;  // woken, or the interval passed
    flush_wanted_ = false;
    lock.unlock();
    if (flush) {
      try {
        std::lock_guard<std::mutex> run(run_mutex_);
        // More than a batch gathered (e.g. while flushes failed): the next batch follows at once.
        more = flushOnce();
        wait_ms = options_.flush_interval_ms;
        retry_ms = 0;
      } catch (const std::exception& e) {
        // Not fatal: the claims stay in claim_log and memory, and a retry takes them (after 1 s,
        // then doubling up to the flush interval).
        flush_failures_.fetch_add(1, std::memory_order_relaxed);
        log::warn(std::string("journal: dedup claims could not be flushed: ") + e.what());
        retry_ms = retry_ms ? std::min<int64_t>(retry_ms * 2, options_.flush_interval_ms) : 1000;
        wait_ms = retry_ms;
        more = false;
      }
      // A flush frees its batch, and lets the writer replace its hash table by one for the
      // claims left: give what the allocator holds free beyond a reserve for the next ones back.
      util::releaseFreeMemory(kFreeMemoryKept);
    }
    try {
      std::lock_guard<std::mutex> run(run_mutex_);
      // Built anew once more claims were added than it was sized for.
      building = buildFilterStep(std::max<size_t>(options_.filter_build_step, 1));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> run(run_mutex_);
      filter_build_.reset();  // tried again after the next flush
      building = false;
      log::warn(std::string("journal: the dedup claims filter could not be built: ") + e.what());
    }
    lock.lock();
  }
  lock.unlock();
  std::lock_guard<std::mutex> run(run_mutex_);
  filter_build_.reset();
}

bool Claims::flushOnce() {
  sqlite3* db = flush_db_->get();
  int64_t now = util::nowMs();
  uint64_t from = flushed_seq_.load(), upto = from;
  // 1. Copy the new claims out of the journal in a read transaction of their own: one held while
  //    the claims database is written and synced would keep the journal's checkpoints from
  //    reaching the end of its WAL, which then grows instead of starting over.
  // The rows are kept as the segment stores them (ids packed), one after another in one buffer
  // sized up front: a flush holds tens of thousands of claims, and buffers that grow by doubling
  // would, for a moment, take three times what they hold.
  struct Row {
    uint64_t hash;  // of pipeline and key, for the filter
    int64_t expires_at;
    size_t at;                         // in `bytes`: pipeline, key and event id as stored
    uint32_t pipeline, key, event_id;  // their sizes
    uint32_t order;                    // read (seq) order
    bool key_packed, event_packed;
  };
  // A batch is bounded, so that the claims gathered while flushes failed are moved a batch at a
  // time, not all through memory at once.
  const int64_t batch = static_cast<int64_t>(std::max<size_t>(options_.flush_claims, 1) * 2);
  const size_t expected =
      std::min(static_cast<size_t>(batch), in_memory_.load(std::memory_order_relaxed) + 1024);
  std::string bytes;
  bytes.reserve(expected * 48);
  std::vector<Row> rows;
  rows.reserve(expected);
  int64_t read_rows = 0;
  {
    // One statement is its own read transaction; it ends when the statement is finalized.
    Statement read(db,
                   "SELECT seq, pipeline, key, event_id, expires_at FROM j.claim_log "
                   "WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    read.bind(1, static_cast<int64_t>(from)).bind(2, batch);
    while (read.step()) {
      ++read_rows;
      upto = static_cast<uint64_t>(read.integer(0));
      if (read.integer(4) <= now) continue;  // expired: nothing to keep
      const std::string_view pipeline = read.view(1), key = read.view(2);
      const StoredId stored_key(key), stored_event(read.view(3));
      Row r{hashOf(pipeline, key),
            read.integer(4),
            bytes.size(),
            static_cast<uint32_t>(pipeline.size()),
            static_cast<uint32_t>(stored_key.stored().size()),
            static_cast<uint32_t>(stored_event.stored().size()),
            static_cast<uint32_t>(rows.size()),
            stored_key.packed(),
            stored_event.packed()};
      bytes.append(pipeline).append(stored_key.stored()).append(stored_event.stored());
      rows.push_back(r);
    }
  }
  auto pipeline = [&](const Row& r) { return std::string_view(bytes).substr(r.at, r.pipeline); };
  auto key = [&](const Row& r) { return std::string_view(bytes).substr(r.at + r.pipeline, r.key); };
  auto event_id = [&](const Row& r) {
    return std::string_view(bytes).substr(r.at + r.pipeline + r.key, r.event_id);
  };
  // 2. Sorted in the segment's order (text keys before packed ones), its B-tree is written leaf
  //    after leaf; of equal keys the later claim comes last, and replaces an earlier (expired)
  //    one. In place: a stable sort would take a buffer as large again.
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    return std::make_tuple(pipeline(a), a.key_packed, key(a), a.order) <
           std::make_tuple(pipeline(b), b.key_packed, key(b), b.order);
  });
  struct Turn {  // see mergeTransaction()
    Claims& claims;
    explicit Turn(Claims& c) : claims(c) {
      std::lock_guard<std::mutex> lock(claims.turn_mutex_);
      ++claims.flushes_waiting_;
    }
    ~Turn() {
      {
        std::lock_guard<std::mutex> lock(claims.turn_mutex_);
        --claims.flushes_waiting_;
      }
      claims.turn_cv_.notify_all();
    }
  };
  if (upto > from) {
    Turn turn(*this);
    // DEFERRED on purpose: IMMEDIATE would take the write lock of the attached journal too. Its
    // first statement writes, so it never has to upgrade a read snapshot (which could fail when
    // the compactor committed in between).
    flush_db_->transaction("BEGIN", [&] {
      if (!rows.empty()) {
        int64_t max_expires = 0;
        for (const auto& r : rows) max_expires = std::max(max_expires, r.expires_at);
        const auto n = static_cast<int64_t>(rows.size());
        const int64_t id = createSegment(*flush_db_, levelOf(n), n, max_expires, false);
        Statement insert(db, ("INSERT OR REPLACE INTO " + segmentTable(id) +
                              "(pipeline, key, event_id, expires_at) VALUES(?1, ?2, ?3, ?4)")
                                 .c_str());
        for (const auto& r : rows) {
          insert.bind(1, pipeline(r)).bind(4, r.expires_at);
          bindId(insert, 2, key(r), r.key_packed);
          bindId(insert, 3, event_id(r), r.event_packed);
          insert.step();
          insert.reset();
        }
        writeView(*flush_db_);
      }
      Statement mark(db,
                     "INSERT OR REPLACE INTO main.state(name, value) VALUES('flushed_seq', ?1)");
      mark.bind(1, static_cast<int64_t>(upto));
      mark.step();
    });
  }
  // In the filter before the writer may forget them from memory (it reads flushed_seq_ first).
  if (filter_)
    for (const auto& r : rows) filter_->add(r.hash);
  if (filter_build_)
    for (const auto& r : rows) filter_build_->filter->add(r.hash);
  flushed_seq_.store(upto);
  flushes_.fetch_add(1, std::memory_order_relaxed);
  if (!rows.empty()) wake(merge_cv_, {&merge_wanted_, &catch_up_wanted_});
  return read_rows == batch;
}

}  // namespace inlet::journal
