#include "sqlite_sink.h"

#include <inlet/sql.h>

#include <filesystem>
#include <set>
#include <stdexcept>

namespace inlet::sinks {

namespace {

using sdk::sql::quoteIdent;

const char* sqlType(inlet_column_type t) {
  switch (t) {
    case INLET_COL_INTEGER:
    case INLET_COL_BOOLEAN:
      return "INTEGER";
    case INLET_COL_REAL:
      return "REAL";
    default:
      return "TEXT";
  }
}

// Transient conditions the host should retry; anything else will fail the same way again.
bool transient(int rc) {
  int primary = rc & 0xFF;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
         primary == SQLITE_FULL || primary == SQLITE_CANTOPEN || primary == SQLITE_NOMEM ||
         primary == SQLITE_READONLY || primary == SQLITE_PROTOCOL;
}

// `body` reads the raw bytes from `body_raw`, or from `data` when they are the same bytes (the
// usual JSON webhook): a body is written once, not twice.
constexpr const char* kBodyColumn =
    "body BLOB GENERATED ALWAYS AS (coalesce(body_raw, CAST(data AS BLOB))) VIRTUAL";

bool bodyInData(const sdk::Event& e) { return !e.body.empty() && e.body == e.data_json; }

}  // namespace

SqliteSink::SqliteSink(Options options) : options_(std::move(options)) {}

SqliteSink::~SqliteSink() {
  for (auto& [_, t] : tables_) sqlite3_finalize(t.insert);
  sqlite3_close_v2(db_);
}

std::unique_ptr<SqliteSink> SqliteSink::create(const sdk::Config& config,
                                               const std::vector<sdk::Secret>&, const sdk::Host&) {
  Options o;
  o.path = config.getString("path");
  if (o.path.empty()) throw std::invalid_argument("path is required");
  o.synchronous = config.getString("synchronous", "full");
  o.busy_timeout_ms = config.getDurationMs("busy_timeout", 5000);
  o.unique_dedup_key = config.getBool("unique_dedup_key", false);
  return std::make_unique<SqliteSink>(std::move(o));
}

void SqliteSink::open() {
  if (db_) return;
  auto parent = std::filesystem::path(options_.path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  if (sqlite3_open_v2(options_.path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open " + options_.path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, static_cast<int>(options_.busy_timeout_ms));
  sqlite3_extended_result_codes(db_, 1);
  exec("PRAGMA journal_mode=WAL");
  exec(options_.synchronous == "normal" ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
}

void SqliteSink::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(msg);
  }
}

void SqliteSink::prepare(const sdk::TableSpec& spec) {
  open();
  const std::string t = quoteIdent(spec.table);
  std::string sql =
      "CREATE TABLE IF NOT EXISTS " + t +
      " (id TEXT PRIMARY KEY, received_at TEXT NOT NULL, pipeline TEXT NOT NULL, provider TEXT, "
      "event_type TEXT, delivery_id TEXT, dedup_key TEXT, headers TEXT, " +
      std::string(kBodyColumn) +
      ", data TEXT, authenticated INTEGER NOT NULL DEFAULT 1, body_raw BLOB";
  for (const auto& c : spec.columns) sql += ", " + quoteIdent(c.name) + " " + sqlType(c.type);
  sql += ")";
  exec(sql);
  // A table created by an older config gains the new typed columns. table_xinfo also lists
  // generated columns.
  std::set<std::string> have;
  sqlite3_stmt* info = nullptr;
  sqlite3_prepare_v2(db_, ("PRAGMA table_xinfo(" + t + ")").c_str(), -1, &info, nullptr);
  while (info && sqlite3_step(info) == SQLITE_ROW)
    have.insert(reinterpret_cast<const char*>(sqlite3_column_text(info, 1)));
  sqlite3_finalize(info);
  for (const auto& c : spec.columns)
    if (!have.count(c.name))
      exec("ALTER TABLE " + t + " ADD COLUMN " + quoteIdent(c.name) + " " + sqlType(c.type));
  // The event id is the primary key: a replay or a re-sent batch never stores an event twice.
  // With unique_dedup_key, neither does a second event with the same key. A table that already
  // has this index keeps it.
  if (options_.unique_dedup_key)
    exec("CREATE UNIQUE INDEX IF NOT EXISTS " + quoteIdent(spec.table + "_dedup_key") + " ON " + t +
         "(dedup_key) WHERE dedup_key IS NOT NULL");
  exec("CREATE INDEX IF NOT EXISTS " + quoteIdent(spec.table + "_received_at") + " ON " + t +
       "(received_at)");
  Table& table = tables_[spec.table];
  sqlite3_finalize(table.insert);  // prepared for the old columns, if any
  table = Table{spec, have.count("body_raw") > 0, nullptr};
}

const SqliteSink::Table& SqliteSink::insertFor(std::string_view table) {
  auto spec = tables_.find(table);
  if (spec == tables_.end())
    throw std::runtime_error("table " + std::string(table) + " was not prepared");
  if (spec->second.insert) return spec->second;
  // Tables created before `body_raw` existed store every body in `body`.
  std::string cols = std::string(
                         "id, received_at, pipeline, provider, event_type, delivery_id, "
                         "dedup_key, headers, ") +
                     (spec->second.body_raw ? "body_raw" : "body") + ", data, authenticated";
  std::string vals =
      "?1, strftime('%Y-%m-%dT%H:%M:%fZ', ?2 / 1000.0, 'unixepoch'), ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
      "?10, ?11";
  for (const auto& c : spec->second.spec.columns) {
    cols += ", " + quoteIdent(c.name);
    std::string path = "'$.\"" + c.name + "\"'";
    // -> keeps JSON values as JSON text; ->> gives SQL scalars for the typed columns.
    vals +=
        c.type == INLET_COL_JSON ? ", nullif(?12 -> " + path + ", 'null')" : ", ?12 ->> " + path;
  }
  std::string sql =
      "INSERT OR IGNORE INTO " + quoteIdent(spec->first) + " (" + cols + ") VALUES (" + vals + ")";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
      SQLITE_OK)
    throw std::runtime_error(std::string("cannot prepare insert: ") + sqlite3_errmsg(db_));
  spec->second.insert = st;
  return spec->second;
}

sdk::WriteResult SqliteSink::write(const std::vector<sdk::Event>& events, std::string& error) {
  if (!db_) {
    error = "the sink is not prepared";
    return sdk::WriteResult::Retry;
  }
  auto text = [](sqlite3_stmt* st, int i, std::string_view v, bool null_if_empty = true) {
    if (v.empty() && null_if_empty)
      sqlite3_bind_null(st, i);
    else
      sqlite3_bind_text64(st, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  };
  int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    error = std::string("cannot begin: ") + sqlite3_errmsg(db_);
    return transient(rc) ? sdk::WriteResult::Retry : sdk::WriteResult::Drop;
  }
  for (const auto& e : events) {
    sqlite3_stmt* st = nullptr;
    bool body_raw = false;
    try {
      const Table& table = insertFor(e.table);
      st = table.insert;
      body_raw = table.body_raw;
    } catch (const std::exception& ex) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      error = ex.what();
      return sdk::WriteResult::Retry;
    }
    text(st, 1, e.id);
    sqlite3_bind_int64(st, 2, e.received_ms);
    text(st, 3, e.pipeline);
    text(st, 4, e.provider);
    text(st, 5, e.event_type);
    text(st, 6, e.delivery_id);
    text(st, 7, e.dedup_key);
    text(st, 8, e.headers_json);
    // A JSON body is usually byte-identical to `data`: `body` (generated) reads those bytes
    // back, so they are written once. Old tables without `body_raw` take every body.
    if (body_raw && bodyInData(e))
      sqlite3_bind_null(st, 9);
    else
      sqlite3_bind_blob64(st, 9, e.body.data() ? e.body.data() : "", e.body.size(), SQLITE_STATIC);
    text(st, 10, e.data_json);
    sqlite3_bind_int(st, 11, e.authenticated ? 1 : 0);
    text(st, 12, e.columns_json.empty() ? std::string_view("{}") : e.columns_json, false);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
      error = std::string("insert failed: ") + sqlite3_errmsg(db_);
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return transient(rc) ? sdk::WriteResult::Retry : sdk::WriteResult::Drop;
    }
  }
  rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    error = std::string("commit failed: ") + sqlite3_errmsg(db_);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return sdk::WriteResult::Retry;
  }
  return sdk::WriteResult::Ok;
}

}  // namespace inlet::sinks
