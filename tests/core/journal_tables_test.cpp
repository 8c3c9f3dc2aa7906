// Tables the journal serves itself (sinks of type `journal`): views over the journal's events,
// their columns and types, what a start may replace and what it must refuse, deletes through
// the view, and retention.
#include <gtest/gtest.h>
#include <inlet/testing/server.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "journal/journal.h"
#include "journal/tables.h"
#include "util/ids.h"

using inlet::config::ColumnConfig;
using inlet::config::JournalConfig;
using inlet::config::JournalTable;
using inlet::journal::Event;
using inlet::journal::Journal;
using inlet::testing::sqlite;
using inlet::testing::TempDir;
using Status = inlet::journal::AppendResult::Status;

namespace {

ColumnConfig column(const std::string& name, ColumnConfig::Type type) {
  ColumnConfig c;
  c.name = name;
  c.type = type;
  return c;
}

JournalConfig configWith(const TempDir& dir, std::vector<JournalTable> tables) {
  JournalConfig c;
  c.path = dir.str("inlet.db");
  c.tables = std::move(tables);
  return c;
}

Event event(const std::string& pipeline, const std::string& body, int64_t received_ms,
            const std::string& columns = "") {
  Event e;
  e.received_ms = received_ms;
  e.id = inlet::util::newEventId(received_ms);
  e.pipeline = pipeline;
  e.provider = "github";
  e.event_type = "issues";
  e.delivery_id = "d-" + e.id.substr(30);
  e.headers_json = R"({"x-github-event":"issues"})";
  e.body = body;
  e.data_json = body.empty() || body[0] != '{' ? "" : body;
  e.columns_json = columns;
  return e;
}

// Runs `sql` on a read-write connection of its own (a user's sqlite3 session).
std::string exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  std::string out;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    out = err ? err : "error";
    sqlite3_free(err);
  }
  sqlite3_close(db);
  return out;
}

TEST(JournalTables, TheViewHasEveryCommittedEventWithTheSqliteSinksColumnsAndTypes) {
  TempDir dir;
  JournalTable t{
      "github_events",
      "github",
      {column("action", ColumnConfig::Type::Text), column("number", ColumnConfig::Type::Integer),
       column("score", ColumnConfig::Type::Real), column("draft", ColumnConfig::Type::Boolean),
       column("at", ColumnConfig::Type::Timestamp), column("labels", ColumnConfig::Type::Json),
       column("none", ColumnConfig::Type::Json)}};
  Journal j(configWith(dir, {t}));
  // 2026-12-03T10:00:00.123Z
  const int64_t at = 1796292000123;
  auto json = event("github", R"({"action":"opened"})", at,
                    R"({"action":"opened","number":7,"score":2,"draft":true,)"
                    R"("at":"2026-12-03T10:00:00.000Z","labels":["a",1],"none":null})");
  auto raw = event("github", "not json \x01", at + 1, R"({"action":null})");
  auto other = event("gitlab", R"({"x":1})", at + 2);
  ASSERT_EQ(j.append("github", "", 0, {json}).status, Status::Accepted);
  ASSERT_EQ(j.append("github", "", 0, {raw}).status, Status::Accepted);
  ASSERT_EQ(j.append("gitlab", "", 0, {other}).status, Status::Accepted);

  // In the table as soon as append() returns: nothing to wait for.
  const std::string path = dir.str("inlet.db");
  EXPECT_EQ(sqlite(path,
                   "SELECT id, received_at, pipeline, provider, event_type, delivery_id, "
                   "dedup_key, headers, body, data, authenticated FROM github_events ORDER BY seq"),
            json.id + "|2026-12-03T10:00:00.123Z|github|github|issues|" + json.delivery_id +
                R"(|NULL|{"x-github-event":"issues"}|{"action":"opened"}|{"action":"opened"}|1)" +
                "\n" + raw.id + "|2026-12-03T10:00:00.124Z|github|github|issues|" +
                raw.delivery_id + R"(|NULL|{"x-github-event":"issues"}|not json )" + "\x01" +
                "|NULL|1\n");
  EXPECT_EQ(sqlite(path,
                   "SELECT action, typeof(action), number, typeof(number), score, typeof(score), "
                   "draft, typeof(draft), at, labels, typeof(none), typeof(body) "
                   "FROM github_events ORDER BY seq"),
            "opened|text|7|integer|2.0|real|1|integer|2026-12-03T10:00:00.000Z|[\"a\",1]|null|"
            "blob\n"
            "NULL|null|NULL|null|NULL|null|NULL|null|NULL|NULL|null|blob\n");
  // A JSON body is stored once (in `data`) and read back byte for byte as `body`.
  EXPECT_EQ(sqlite(path, "SELECT count(*) FROM events WHERE body IS NULL"), "2\n");
  EXPECT_EQ(sqlite(path, "SELECT seq FROM github_events ORDER BY seq"), "1\n2\n");
}

TEST(JournalTables, ARestartReplacesItsOwnViewWithTheNewColumns) {
  TempDir dir;
  JournalTable t{"t", "p", {column("a", ColumnConfig::Type::Text)}};
  {
    Journal j(configWith(dir, {t}));
    ASSERT_EQ(j.append("p", "", 0, {event("p", "{}", 1000, R"({"a":"x","b":2})")}).status,
              Status::Accepted);
  }
  t.columns.push_back(column("b", ColumnConfig::Type::Integer));
  Journal j(configWith(dir, {t}));
  EXPECT_EQ(sqlite(dir.str("inlet.db"), "SELECT a, b FROM t"), "x|2\n");
}

TEST(JournalTables, ANameTakenByATableOrAViewInletDidNotCreateIsRefused) {
  for (const std::string& sql :
       {std::string("CREATE TABLE github_events(id TEXT)"),
        std::string("CREATE VIEW GitHub_Events AS SELECT 1"),
        std::string("CREATE TABLE x(id TEXT); CREATE INDEX github_events ON x(id)"),
        std::string("CREATE TABLE x(id TEXT); CREATE TRIGGER github_events_delete AFTER INSERT ON "
                    "x BEGIN SELECT 1; END")}) {
    SCOPED_TRACE(sql);
    TempDir dir;
    ASSERT_EQ(exec(dir.str("inlet.db"), sql), "");
    try {
      Journal j(configWith(dir, {{"github_events", "github", {}}}));
      FAIL() << "the journal opened";
    } catch (const inlet::journal::SqliteError& e) {
      EXPECT_NE(std::string(e.what()).find("was not created by Inlet"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("pipeline 'github'"), std::string::npos) << e.what();
    }
    // Nothing of the user's was dropped.
    EXPECT_NE(sqlite(dir.str("inlet.db"),
                     "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'github_events%'"),
              "0\n");
  }
}

TEST(JournalTables, DeletingFromTheViewDeletesTheEventsFromTheJournal) {
  TempDir dir;
  Journal j(configWith(dir, {{"t", "p", {}}}));
  for (int64_t ms : {1000, 2000, 3000})
    ASSERT_EQ(j.append("p", "", 0, {event("p", "{}", ms)}).status, Status::Accepted);
  ASSERT_EQ(j.append("q", "", 0, {event("q", "{}", 1000)}).status, Status::Accepted);
  EXPECT_EQ(
      exec(dir.str("inlet.db"), "DELETE FROM t WHERE received_at < '1970-01-01T00:00:02.500Z'"),
      "");
  EXPECT_EQ(sqlite(dir.str("inlet.db"), "SELECT received_at FROM t"), "1970-01-01T00:00:03.000Z\n");
  EXPECT_EQ(sqlite(dir.str("inlet.db"), "SELECT pipeline, received_at FROM events ORDER BY seq"),
            "p|3000\nq|1000\n");
  // The writer goes on after the user's write.
  EXPECT_EQ(j.append("p", "", 0, {event("p", "{}", 4000)}).status, Status::Accepted);
  EXPECT_EQ(sqlite(dir.str("inlet.db"), "SELECT count(*) FROM t"), "2\n");
}

TEST(JournalTables, RetentionPrunesOtherPipelinesEventsButNeverATablesRows) {
  TempDir dir;
  auto config = configWith(dir, {{"kept_events", "kept", {}}});
  config.retention_ms = 3600 * 1000;
  Journal j(config);
  const int64_t old = inlet::util::nowMs() - 2 * 3600 * 1000;
  ASSERT_EQ(j.append("kept", "", 0, {event("kept", "{}", old)}).status, Status::Accepted);
  ASSERT_EQ(j.append("gone", "", 0, {event("gone", "{}", old)}).status, Status::Accepted);
  ASSERT_EQ(j.append("gone", "", 0, {event("gone", "{}", inlet::util::nowMs())}).status,
            Status::Accepted);
  // The writer prunes when it has had nothing to do for a second (then once a minute).
  EXPECT_EQ(inlet::testing::waitForQuery(
                dir.str("inlet.db"), "SELECT pipeline FROM events ORDER BY seq", "kept\ngone\n"),
            "kept\ngone\n");
  EXPECT_EQ(sqlite(dir.str("inlet.db"), "SELECT count(*) FROM kept_events"), "1\n");
}

TEST(JournalTables, TheViewStatementQuotesNamesAndValues) {
  JournalTable t{"t\"x", "p'q", {column("c\"d", ColumnConfig::Type::Text)}};
  auto sql = inlet::journal::tableSql(t);
  EXPECT_NE(sql.find("CREATE VIEW \"t\"\"x\""), std::string::npos) << sql;
  EXPECT_NE(sql.find("WHERE pipeline = 'p''q'"), std::string::npos) << sql;
  EXPECT_NE(sql.find("AS \"c\"\"d\""), std::string::npos) << sql;
}

}  // namespace
