#include "sqlite_sink.h"

#include <gtest/gtest.h>

#include <filesystem>

using inlet::sinks::SqliteSink;
namespace sdk = inlet::sdk;

namespace {

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    dir = std::filesystem::temp_directory_path() /
          ("inlet-sqlite-sink-" + std::to_string(::getpid()) + "-" +
           std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir);
  }
  ~TempDb() { std::filesystem::remove_all(dir); }
  std::string path() const { return (dir / "sub" / "store.db").string(); }
};

// Runs `sql` on its own connection and hands each result row to `row`.
template <class Row>
void eachRow(const std::string& path, const std::string& sql, Row row) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (sqlite3_step(st) == SQLITE_ROW) row(st);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// All rows as text, columns joined with "|", NULL as "NULL".
std::string query(const std::string& path, const std::string& sql) {
  std::string out;
  eachRow(path, sql, [&](sqlite3_stmt* st) {
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i) out += "|";
      auto* t = sqlite3_column_text(st, i);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    out += "\n";
  });
  return out;
}

// The first column of the first row as raw bytes (BLOB or TEXT), NULL as "<null>".
std::string bytesOf(const std::string& path, const std::string& sql) {
  std::string out = "<no row>";
  bool first = true;
  eachRow(path, sql, [&](sqlite3_stmt* st) {
    if (!first) return;
    first = false;
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
      out = "<null>";
    } else {
      auto* p = static_cast<const char*>(sqlite3_column_blob(st, 0));
      out.assign(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    }
  });
  return out;
}

sdk::Event event(std::string_view id, std::string_view dedup, std::string_view data,
                 std::string_view cols = "{}") {
  sdk::Event e;
  e.id = id;
  e.pipeline = "github";
  e.table = "github_events";
  e.received_ms = 1764412800123;  // 2025-11-29T10:40:00.123Z
  e.provider = "github";
  e.event_type = "push";
  e.delivery_id = dedup;
  e.dedup_key = dedup;
  e.headers_json = R"({"x-github-event":"push"})";
  e.body = data;
  e.data_json = data;
  e.columns_json = cols;
  return e;
}

TEST(SqliteSink, WritesQueryableRowsAndDedups) {
  TempDb tmp;
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"github", "github_events", {}});
  std::string err;
  auto a = event("0190-a", "d1", R"({"action":"opened","n":1})");
  auto b = event("0190-b", "d2", R"({"action":"closed","n":2})");
  ASSERT_EQ(sink.write({a, b}, err), sdk::WriteResult::Ok) << err;
  // The same batch again (a host retry, a replay): stored once.
  ASSERT_EQ(sink.write({a, b}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(
      query(tmp.path(),
            "SELECT id, json_extract(data,'$.action'), received_at FROM github_events ORDER BY id"),
      "0190-a|opened|2025-11-29T10:40:00.123Z\n0190-b|closed|2025-11-29T10:40:00.123Z\n");
  EXPECT_EQ(query(tmp.path(), "PRAGMA journal_mode"), "wal\n");
  // Without unique_dedup_key, the same key under a new id (re-sent after the journal's dedup
  // window) is a new row, and the table has no dedup_key index.
  ASSERT_EQ(sink.write({event("0190-c", "d1", "{}")}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(query(tmp.path(), "SELECT count(*) FROM github_events WHERE dedup_key = 'd1'"), "2\n");
  EXPECT_EQ(query(tmp.path(),
                  "SELECT count(*) FROM sqlite_master WHERE name = 'github_events_dedup_key'"),
            "0\n");
}

TEST(SqliteSink, UniqueDedupKeyStoresAKeyOnceUnderAnyId) {
  TempDb tmp;
  SqliteSink::Options options{tmp.path(), "full", 1000};
  options.unique_dedup_key = true;
  SqliteSink sink(options);
  sink.prepare({"github", "github_events", {}});
  std::string err;
  auto a = event("0190-a", "d1", R"({"n":1})");
  // Another instance's event for the same delivery: a new id, the same key.
  auto other = event("0190-z", "d1", R"({"n":1})");
  auto b = event("0190-b", "d2", R"({"n":2})");
  ASSERT_EQ(sink.write({a}, err), sdk::WriteResult::Ok) << err;
  ASSERT_EQ(sink.write({other, b}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(query(tmp.path(), "SELECT id FROM github_events ORDER BY id"), "0190-a\n0190-b\n");
  // Events without a key (no dedup) are never refused.
  ASSERT_EQ(sink.write({event("0190-c", "", "{}"), event("0190-d", "", "{}")}, err),
            sdk::WriteResult::Ok)
      << err;
  EXPECT_EQ(query(tmp.path(), "SELECT count(*) FROM github_events"), "4\n");
}

TEST(SqliteSink, TypedColumns) {
  TempDb tmp;
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"github",
                "github_events",
                {{"action", INLET_COL_TEXT},
                 {"n", INLET_COL_INTEGER},
                 {"ok", INLET_COL_BOOLEAN},
                 {"meta", INLET_COL_JSON},
                 {"missing", INLET_COL_TEXT}}});
  std::string err;
  auto e = event("1", "k", R"({"x":1})",
                 R"({"action":"opened","n":42,"ok":true,"meta":{"a":[1,2]},"missing":null})");
  ASSERT_EQ(sink.write({e}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(query(tmp.path(), "SELECT action, n, typeof(n), ok, meta, missing FROM github_events"),
            "opened|42|integer|1|{\"a\":[1,2]}|NULL\n");
}

TEST(SqliteSink, NewColumnsAreAddedToAnExistingTable) {
  TempDb tmp;
  {
    SqliteSink sink({tmp.path(), "full", 1000});
    sink.prepare({"p", "t", {}});
  }
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"p", "t", {{"extra", INLET_COL_TEXT}}});
  EXPECT_NE(query(tmp.path(), "PRAGMA table_info(t)").find("extra"), std::string::npos);
}

TEST(SqliteSink, BodyIsByteExactWhetherOrNotDataHoldsItsBytes) {
  TempDb tmp;
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"github", "github_events", {}});
  std::string err;
  // JSON body identical to data: stored once, read back through the generated `body`.
  auto same = event("1", "k1", "{ \"a\" : [1, 2.50, \"\\u00e9\"] }\n");
  // A body that differs from its data (a split element, a re-encoded document) and a raw body
  // with no data at all (decode: raw), including NUL and invalid UTF-8 bytes.
  auto differs = event("2", "k2", R"({"a":1})");
  differs.body = R"({"a": 1})";
  static const std::string raw_bytes("\x00\xff\xfe raw\r\n", 9);
  auto raw = event("3", "k3", "");
  raw.body = raw_bytes;
  raw.data_json = {};
  auto empty = event("4", "k4", "");
  ASSERT_EQ(sink.write({same, differs, raw, empty}, err), sdk::WriteResult::Ok) << err;
  auto body = [&](const char* id) {
    return bytesOf(tmp.path(),
                   std::string("SELECT body FROM github_events WHERE id = '") + id + "'");
  };
  EXPECT_EQ(body("1"), std::string(same.body));
  EXPECT_EQ(body("2"), R"({"a": 1})");
  EXPECT_EQ(body("3"), raw_bytes);
  EXPECT_EQ(body("4"), "");
  EXPECT_EQ(query(tmp.path(), "SELECT typeof(body) FROM github_events ORDER BY id"),
            "blob\nblob\nblob\nblob\n");
  // The JSON body's bytes are on disk once: body_raw holds only bodies that differ from data.
  EXPECT_EQ(query(tmp.path(),
                  "SELECT id, body_raw IS NULL, json_extract(data, '$.a') FROM github_events "
                  "ORDER BY id"),
            "1|1|[1,2.50,\"\\u00e9\"]\n2|0|1\n3|0|NULL\n4|0|NULL\n");
  EXPECT_EQ(
      query(tmp.path(), "SELECT json_extract(data, '$.a[2]') FROM github_events WHERE id = '1'"),
      "é\n");
}

TEST(SqliteSink, TableFromBeforeBodyRawKeepsItsStoredBody) {
  TempDb tmp;
  std::filesystem::create_directories(std::filesystem::path(tmp.path()).parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE t (id TEXT PRIMARY KEY, received_at TEXT NOT NULL, pipeline "
                         "TEXT NOT NULL, provider TEXT, event_type TEXT, delivery_id TEXT, "
                         "dedup_key TEXT, headers TEXT, body BLOB, data TEXT, authenticated "
                         "INTEGER NOT NULL DEFAULT 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"p", "t", {}});
  std::string err;
  auto e = event("1", "k", R"({"a":1})");
  e.table = "t";
  ASSERT_EQ(sink.write({e}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(bytesOf(tmp.path(), "SELECT body FROM t"), R"({"a":1})");
  EXPECT_EQ(
      query(tmp.path(), "SELECT count(*) FROM pragma_table_xinfo('t') WHERE name = 'body_raw'"),
      "0\n");
}

TEST(SqliteSink, UnpreparedTableIsRetry) {
  TempDb tmp;
  SqliteSink sink({tmp.path(), "full", 1000});
  sink.prepare({"p", "t", {}});
  std::string err;
  auto e = event("1", "k", "{}");
  e.table = "never_prepared";
  EXPECT_EQ(sink.write({e}, err), sdk::WriteResult::Retry);
  EXPECT_EQ(query(tmp.path(), "SELECT count(*) FROM t"), "0\n");
}

}  // namespace
