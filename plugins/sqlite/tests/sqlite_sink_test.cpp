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

std::string query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i) out += "|";
      auto* t = sqlite3_column_text(st, i);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    out += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
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
  // The same batch again (a host retry) and the same dedup key under a new id: stored once.
  auto dup = event("0190-c", "d1", R"({"action":"opened","n":1})");
  ASSERT_EQ(sink.write({a, b, dup}, err), sdk::WriteResult::Ok) << err;
  EXPECT_EQ(
      query(tmp.path(),
            "SELECT id, json_extract(data,'$.action'), received_at FROM github_events ORDER BY id"),
      "0190-a|opened|2025-11-29T10:40:00.123Z\n0190-b|closed|2025-11-29T10:40:00.123Z\n");
  EXPECT_EQ(query(tmp.path(), "PRAGMA journal_mode"), "wal\n");
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
