#include "postgres_sink.h"

#include <gtest/gtest.h>
#include <inlet/testing/postgres.h>

#include <memory>

using inlet::sdk::WriteResult;
using inlet::sinks::PostgresSink;
using inlet::testing::PostgresServer;

namespace {

// One server for the suite (initdb takes a few seconds); each test uses its own table.
class PostgresSinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (PostgresServer::binDir().empty()) return;
    server_ = std::make_unique<PostgresServer>();
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "PostgreSQL server binaries not installed";
    if (!server_->running()) server_->start();
  }

  static PostgresSink sink() {
    PostgresSink::Options o;
    o.conninfo = server_->conninfo();
    o.connect_timeout_ms = 2000;
    return PostgresSink(o, inlet::sdk::Host());
  }
  static inlet::sdk::TableSpec spec(const std::string& table) {
    inlet::sdk::TableSpec t;
    t.pipeline = "github";
    t.table = table;
    t.columns = {{"action", INLET_COL_TEXT},         {"number", INLET_COL_INTEGER},
                 {"score", INLET_COL_REAL},          {"merged", INLET_COL_BOOLEAN},
                 {"closed_at", INLET_COL_TIMESTAMP}, {"labels", INLET_COL_JSON}};
    return t;
  }

  static std::unique_ptr<PostgresServer> server_;
};
std::unique_ptr<PostgresServer> PostgresSinkTest::server_;

// Owns the strings an sdk::Event points into.
struct OwnedEvent {
  std::string id, table, dedup_key, body, data, columns, delivery = "d-1";
  std::string headers = R"({"content-type":"application/json","x-github-event":"pull_request"})";
  inlet::sdk::Event view() const {
    inlet::sdk::Event e;
    e.id = id;
    e.pipeline = "github";
    e.table = table;
    e.received_ms = 1'700'000'000'123;
    e.provider = "github";
    e.event_type = "pull_request";
    e.delivery_id = delivery;
    e.dedup_key = dedup_key;
    e.headers_json = headers;
    e.body = body;
    e.data_json = data;
    e.columns_json = columns;
    return e;
  }
};

OwnedEvent ev(std::string id, std::string table, std::string dedup_key = "") {
  OwnedEvent o;
  o.id = std::move(id);
  o.table = std::move(table);
  o.dedup_key = std::move(dedup_key);
  o.body = R"({"action":"opened","number":42})";
  o.data = o.body;
  o.columns = R"({"action":"opened","number":42,"score":1.5,"merged":false,)"
              R"("closed_at":"2024-01-02T03:04:05Z","labels":["bug","ui"]})";
  return o;
}

WriteResult write(PostgresSink& s, const std::vector<OwnedEvent>& owned, std::string& error) {
  std::vector<inlet::sdk::Event> batch;
  for (const auto& o : owned) batch.push_back(o.view());
  error.clear();
  return s.write(batch, error);
}

TEST_F(PostgresSinkTest, CreatesTypedTableAndWritesRows) {
  auto s = sink();
  s.prepare(spec("typed_events"));
  // Column types as created.
  auto types = server_->query(
      "SELECT column_name, data_type FROM information_schema.columns "
      "WHERE table_name = 'typed_events' ORDER BY ordinal_position");
  std::vector<std::string> got;
  for (const auto& r : types) got.push_back(*r[0] + ":" + *r[1]);
  EXPECT_EQ(got, (std::vector<std::string>{
                     "id:text", "pipeline:text", "received_at:timestamp with time zone",
                     "provider:text", "event_type:text", "delivery_id:text", "dedup_key:text",
                     "headers:jsonb", "body:bytea", "data:jsonb", "authenticated:boolean",
                     "action:text", "number:bigint", "score:double precision", "merged:boolean",
                     "closed_at:timestamp with time zone", "labels:jsonb"}));
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM pg_indexes WHERE tablename = 'typed_events' "
                            "AND indexdef LIKE '%UNIQUE%dedup_key%WHERE%'"),
            "1");

  auto a = ev("0190-a", "typed_events", "github:a");
  auto b = ev("0190-b", "typed_events");
  b.body = std::string("\x00\x01\xff not json", 12);
  b.data = "";
  b.columns = R"({"action":null,"number":7})";
  std::string error;
  ASSERT_EQ(write(s, {a, b}, error), WriteResult::Ok) << error;

  auto rows = server_->query(
      "SELECT id, pipeline, received_at AT TIME ZONE 'UTC', provider, event_type, dedup_key, "
      "headers->>'x-github-event', encode(body, 'hex'), data->>'action', authenticated, action, "
      "number, score, merged, closed_at AT TIME ZONE 'UTC', labels::text "
      "FROM typed_events ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(*rows[0][0], "0190-a");
  EXPECT_EQ(*rows[0][1], "github");
  EXPECT_EQ(*rows[0][2], "2023-11-14 22:13:20.123");
  EXPECT_EQ(*rows[0][3], "github");
  EXPECT_EQ(*rows[0][4], "pull_request");
  EXPECT_EQ(*rows[0][5], "github:a");
  EXPECT_EQ(*rows[0][6], "pull_request");
  EXPECT_EQ(*rows[0][8], "opened");
  EXPECT_EQ(*rows[0][9], "t");
  EXPECT_EQ(*rows[0][10], "opened");
  EXPECT_EQ(*rows[0][11], "42");
  EXPECT_EQ(*rows[0][12], "1.5");
  EXPECT_EQ(*rows[0][13], "f");
  EXPECT_EQ(*rows[0][14], "2024-01-02 03:04:05");
  EXPECT_EQ(*rows[0][15], R"(["bug", "ui"])");
  // Binary body round-trips; no JSON → data NULL; missing / null columns → NULL.
  EXPECT_EQ(*rows[1][7], "0001ff206e6f74206a736f6e");
  EXPECT_FALSE(rows[1][8].has_value());
  EXPECT_EQ(*rows[1][5], "");
  EXPECT_FALSE(rows[1][10].has_value());
  EXPECT_EQ(*rows[1][11], "7");
  EXPECT_FALSE(rows[1][15].has_value());
}

TEST_F(PostgresSinkTest, DuplicateDedupKeyAndResentBatchKeepOneRow) {
  auto s = sink();
  s.prepare(spec("dedup_events"));
  std::string error;
  auto a = ev("id-1", "dedup_events", "stripe:evt_1");
  auto same_key = ev("id-2", "dedup_events", "stripe:evt_1");  // another instance's copy
  auto c = ev("id-3", "dedup_events");
  auto d = ev("id-4", "dedup_events");  // empty dedup keys never collide
  ASSERT_EQ(write(s, {a, same_key, c}, error), WriteResult::Ok) << error;
  ASSERT_EQ(write(s, {a, c, d}, error), WriteResult::Ok) << error;  // the host re-sends
  // A second sink (another Inlet instance) writing the same key.
  auto other = sink();
  other.prepare(spec("dedup_events"));
  ASSERT_EQ(write(other, {ev("id-9", "dedup_events", "stripe:evt_1")}, error), WriteResult::Ok);
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM dedup_events"), "3");
  EXPECT_EQ(server_->scalar("SELECT string_agg(id, ',' ORDER BY id) FROM dedup_events"),
            "id-1,id-3,id-4");
}

TEST_F(PostgresSinkTest, ServerDownIsRetryAndReconnects) {
  auto s = sink();
  s.prepare(spec("fault_events"));
  std::string error;
  ASSERT_EQ(write(s, {ev("id-1", "fault_events")}, error), WriteResult::Ok) << error;

  server_->stop();
  EXPECT_EQ(write(s, {ev("id-2", "fault_events")}, error), WriteResult::Retry);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(write(s, {ev("id-2", "fault_events")}, error), WriteResult::Retry);  // still down
  EXPECT_NE(error.find("connect"), std::string::npos) << error;

  server_->start();
  ASSERT_EQ(write(s, {ev("id-2", "fault_events")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM fault_events"), "2");
}

TEST_F(PostgresSinkTest, CrashMidSessionIsRetry) {
  auto s = sink();
  s.prepare(spec("crash_events"));
  std::string error;
  ASSERT_EQ(write(s, {ev("id-1", "crash_events")}, error), WriteResult::Ok) << error;
  server_->stop("immediate");
  server_->start();  // the sink's connection is dead, the server is back
  auto r = write(s, {ev("id-2", "crash_events")}, error);
  if (r == WriteResult::Retry) r = write(s, {ev("id-2", "crash_events")}, error);
  EXPECT_EQ(r, WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM crash_events"), "2");
}

TEST_F(PostgresSinkTest, GarbagePostgresRejectsIsDrop) {
  auto s = sink();
  s.prepare(spec("garbage_events"));
  std::string error;
  // \u0000 is valid JSON but jsonb cannot store it (SQLSTATE 22P05).
  auto nul = ev("id-1", "garbage_events");
  nul.data = R"({"a":"\u0000"})";
  EXPECT_EQ(write(s, {ev("id-0", "garbage_events"), nul}, error), WriteResult::Drop);
  EXPECT_NE(error.find("SQLSTATE 22"), std::string::npos) << error;
  // A typed column value that is not a number.
  auto bad_number = ev("id-2", "garbage_events");
  bad_number.columns = R"({"number":"forty-two"})";
  EXPECT_EQ(write(s, {bad_number}, error), WriteResult::Drop);
  EXPECT_NE(error.find("22P02"), std::string::npos) << error;
  // Invalid UTF-8 in a text column.
  auto bad_utf8 = ev("id-3", "garbage_events");
  bad_utf8.id = "id-\xff";
  EXPECT_EQ(write(s, {bad_utf8}, error), WriteResult::Drop);
  // Nothing of the failed batches was kept (one transaction), and the sink still works.
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM garbage_events"), "0");
  ASSERT_EQ(write(s, {ev("id-4", "garbage_events")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM garbage_events"), "1");
}

TEST_F(PostgresSinkTest, LargeBatchIsSplitIntoStatementsInOneTransaction) {
  PostgresSink::Options o;
  o.conninfo = server_->conninfo();
  o.max_rows_per_statement = 7;
  PostgresSink s(o, inlet::sdk::Host());
  s.prepare(spec("big_events"));
  std::vector<OwnedEvent> owned;
  for (int i = 0; i < 50; ++i) owned.push_back(ev("id-" + std::to_string(i), "big_events"));
  std::string error;
  ASSERT_EQ(write(s, owned, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM big_events"), "50");
  // A bad row in the last chunk rolls back the earlier chunks too.
  std::vector<OwnedEvent> more;
  for (int i = 50; i < 70; ++i) more.push_back(ev("id-" + std::to_string(i), "big_events"));
  more.back().columns = R"({"merged":"perhaps"})";
  EXPECT_EQ(write(s, more, error), WriteResult::Drop);
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM big_events"), "50");
}

TEST_F(PostgresSinkTest, UnpreparedTableAndNewColumnsAndSchema) {
  server_->query("CREATE SCHEMA IF NOT EXISTS hooks");
  PostgresSink::Options o;
  o.conninfo = server_->conninfo();
  o.schema = "hooks";
  PostgresSink s(o, inlet::sdk::Host());
  std::string error;
  // Never announced: created with the built-in columns only.
  ASSERT_EQ(write(s, {ev("id-1", "Odd \"Name\"")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar(R"(SELECT count(*) FROM hooks."Odd ""Name""")"), "1");
  // Announced later with typed columns: they are added to the existing table.
  auto t = spec("Odd \"Name\"");
  s.prepare(t);
  ASSERT_EQ(write(s, {ev("id-2", "Odd \"Name\"")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar(R"(SELECT number FROM hooks."Odd ""Name""" WHERE id = 'id-2')"), "42");
}

TEST_F(PostgresSinkTest, LongTableNamesEachGetTheirDedupIndex) {
  auto s = sink();
  std::string a = std::string(60, 'a') + "_one", b = std::string(60, 'a') + "_two";
  s.prepare(spec(a));
  s.prepare(spec(b));
  EXPECT_EQ(
      server_->scalar("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE '%UNIQUE%(dedup_key)%'"
                      " AND tablename LIKE 'aaaa%'"),
      "2");
  std::string error;
  ASSERT_EQ(write(s, {ev("id-1", b, "k"), ev("id-2", b, "k")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM \"" + b + "\""), "1");
}

TEST_F(PostgresSinkTest, DroppedTableIsRecreatedAfterRetry) {
  auto s = sink();
  s.prepare(spec("dropped_events"));
  server_->query("DROP TABLE dropped_events");
  std::string error;
  EXPECT_EQ(write(s, {ev("id-1", "dropped_events")}, error), WriteResult::Retry);
  EXPECT_NE(error.find("42P01"), std::string::npos) << error;
  ASSERT_EQ(write(s, {ev("id-1", "dropped_events")}, error), WriteResult::Ok) << error;
  EXPECT_EQ(server_->scalar("SELECT count(*) FROM dropped_events"), "1");
}

TEST(PostgresSinkSql, ColumnClashIsRefused) {
  PostgresSink::Options o;
  inlet::sdk::TableSpec t;
  t.table = "x";
  t.columns = {{"data", INLET_COL_JSON}};
  EXPECT_THROW(PostgresSink::createTableSql(o, t), std::invalid_argument);
}

TEST(PostgresSinkSql, ExactStatements) {
  PostgresSink::Options o;
  inlet::sdk::TableSpec t;
  t.table = "gh";
  t.columns = {{"action", INLET_COL_TEXT}, {"n", INLET_COL_INTEGER}, {"j", INLET_COL_JSON}};
  EXPECT_EQ(PostgresSink::insertSql(o, t, 1),
            "INSERT INTO \"public\".\"gh\" (id, pipeline, received_at, provider, event_type, "
            "delivery_id, dedup_key, headers, body, data, authenticated, \"action\", \"n\", \"j\") "
            "VALUES ($1::text, $2::text, $3::timestamptz, $4::text, $5::text, $6::text, $7::text, "
            "$8::jsonb, $9::bytea, $10::jsonb, $11::boolean, ($12::jsonb ->> 'action'), "
            "($12::jsonb ->> 'n')::bigint, nullif($12::jsonb -> 'j', 'null'::jsonb)) "
            "ON CONFLICT DO NOTHING");
  auto ddl = PostgresSink::createTableSql(o, t);
  ASSERT_EQ(ddl.size(), 5u);
  EXPECT_EQ(ddl[1],
            "CREATE UNIQUE INDEX IF NOT EXISTS \"gh_dedup_key\" ON \"public\".\"gh\" (dedup_key) "
            "WHERE dedup_key <> ''");

  o.dialect = PostgresSink::Dialect::RisingWave;
  auto rw = PostgresSink::createTableSql(o, t);
  ASSERT_EQ(rw.size(), 1u);
  EXPECT_NE(rw[0].find("dedup_key varchar PRIMARY KEY"), std::string::npos) << rw[0];
  EXPECT_NE(rw[0].find(") ON CONFLICT DO NOTHING"), std::string::npos) << rw[0];
  EXPECT_EQ(PostgresSink::insertSql(o, t, 2).find("ON CONFLICT"), std::string::npos);
  EXPECT_EQ(PostgresSink::quoteIdent("a\"b"), "\"a\"\"b\"");
}

TEST(PostgresSinkSql, Classification) {
  EXPECT_EQ(PostgresSink::classify(""), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("08006"), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("57P01"), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("53100"), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("40001"), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("42P01"), WriteResult::Retry);
  EXPECT_EQ(PostgresSink::classify("22P02"), WriteResult::Drop);
  EXPECT_EQ(PostgresSink::classify("23502"), WriteResult::Drop);
  EXPECT_EQ(PostgresSink::classify("42703"), WriteResult::Drop);
}

TEST(PostgresSinkSql, CreateValidatesOptions) {
  using inlet::sdk::Config;
  inlet::sdk::Host host;
  EXPECT_THROW(PostgresSink::create(Config::parse("{}"), {}, host), std::invalid_argument);
  EXPECT_THROW(PostgresSink::create(Config::parse(R"({"conninfo":"a","dsn":"b"})"), {}, host),
               std::invalid_argument);
  EXPECT_THROW(PostgresSink::create(Config::parse(R"({"dsn":"a","dialect":"mysql"})"), {}, host),
               std::invalid_argument);
  EXPECT_TRUE(PostgresSink::create(Config::parse(R"({"dsn":"host=x"})"), {}, host));
}

}  // namespace
