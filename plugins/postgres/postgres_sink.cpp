#include "postgres_sink.h"

#include <inlet/sql.h>
#include <libpq-fe.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace inlet::sinks {

namespace {

// The columns every table has, in INSERT order (the typed columns follow).
struct Fixed {
  const char* name;
  const char* pg;  // postgres dialect definition
  const char* rw;  // risingwave dialect definition
  const char* cast;
};
constexpr Fixed kFixed[] = {
    {"id", "text PRIMARY KEY", "varchar", "text"},
    {"pipeline", "text NOT NULL", "varchar", "text"},
    {"received_at", "timestamptz NOT NULL", "timestamptz", "timestamptz"},
    {"provider", "text NOT NULL", "varchar", "text"},
    {"event_type", "text NOT NULL", "varchar", "text"},
    {"delivery_id", "text NOT NULL", "varchar", "text"},
    // RisingWave has no unique index but the primary key; see README "RisingWave".
    {"dedup_key", "text NOT NULL", "varchar PRIMARY KEY", "text"},
    {"headers", "jsonb NOT NULL", "jsonb", "jsonb"},
    {"body", "bytea NOT NULL", "bytea", "bytea"},
    {"data", "jsonb", "jsonb", "jsonb"},
    {"authenticated", "boolean NOT NULL", "boolean", "boolean"},
};
constexpr size_t kFixedCount = sizeof(kFixed) / sizeof(kFixed[0]);
constexpr size_t kBodyIndex = 8;

const char* sqlType(inlet_column_type t) {
  switch (t) {
    case INLET_COL_TEXT:
      return "text";
    case INLET_COL_INTEGER:
      return "bigint";
    case INLET_COL_REAL:
      return "double precision";
    case INLET_COL_BOOLEAN:
      return "boolean";
    case INLET_COL_TIMESTAMP:
      return "timestamptz";
    case INLET_COL_JSON:
      return "jsonb";
  }
  return "text";
}

// The typed column's value, taken by the server from the row's columns_json parameter: exact
// conversions (numbers, timestamps) with the server's own rules, and one parameter per row
// however many columns there are.
std::string columnExpr(const sdk::Column& c, size_t param) {
  std::string p = "$" + std::to_string(param) + "::jsonb";
  std::string key = sdk::sql::quoteLiteral(c.name);
  switch (c.type) {
    case INLET_COL_TEXT:
      return "(" + p + " ->> " + key + ")";
    case INLET_COL_JSON:
      return "nullif(" + p + " -> " + key + ", 'null'::jsonb)";
    default:
      return "(" + p + " ->> " + key + ")::" + sqlType(c.type);
  }
}

std::string qualified(const PostgresSink::Options& o, const std::string& table) {
  return PostgresSink::quoteIdent(o.schema) + "." + PostgresSink::quoteIdent(table);
}

std::string isoUtcMs(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
  return buf;
}

std::string hexBytea(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// PostgreSQL truncates identifiers to 63 bytes, and index names share the schema's namespace:
// two long table names with a common prefix must not end up with the same index name (the
// second CREATE INDEX IF NOT EXISTS would silently skip, leaving that table without dedup).
std::string dedupIndexName(const std::string& table) {
  std::string name = table + "_dedup_key";
  if (name.size() <= 63) return name;
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and machines
  for (unsigned char c : table) h = (h ^ c) * 16777619u;
  char hex[9];
  snprintf(hex, sizeof hex, "%08x", h);
  std::string prefix = table.substr(0, 40);
  // Do not cut a UTF-8 sequence in half.
  while (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0xC0) == 0x80)
    prefix.pop_back();
  if (!prefix.empty() && (static_cast<unsigned char>(prefix.back()) & 0x80)) prefix.pop_back();
  return prefix + "_" + hex + "_dedup_key";
}

std::string trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string PostgresSink::quoteIdent(std::string_view name) { return sdk::sql::quoteIdent(name); }

PostgresSink::PostgresSink(Options options, sdk::Host host)
    : options_(std::move(options)), host_(host) {}

PostgresSink::~PostgresSink() { disconnect(); }

std::unique_ptr<PostgresSink> PostgresSink::create(const sdk::Config& config,
                                                   const std::vector<sdk::Secret>&,
                                                   const sdk::Host& host) {
  Options o;
  o.conninfo = config.getString("conninfo", config.getString("dsn"));
  if (o.conninfo.empty()) throw std::invalid_argument("postgres sink: set `conninfo` (or `dsn`)");
  if (config.has("conninfo") && config.has("dsn"))
    throw std::invalid_argument("postgres sink: set either `conninfo` or `dsn`, not both");
  o.schema = config.getString("schema", "public");
  if (o.schema.empty()) throw std::invalid_argument("postgres sink: `schema` must not be empty");
  std::string dialect = config.getString("dialect", "postgres");
  if (dialect == "postgres")
    o.dialect = Dialect::Postgres;
  else if (dialect == "risingwave")
    o.dialect = Dialect::RisingWave;
  else
    throw std::invalid_argument("postgres sink: `dialect` must be postgres or risingwave");
  o.max_rows_per_statement = config.getInt("max_rows_per_statement", 500);
  if (o.max_rows_per_statement < 1)
    throw std::invalid_argument("postgres sink: `max_rows_per_statement` must be >= 1");
  o.create_tables = config.getBool("create_tables", true);
  o.connect_timeout_ms = config.getDurationMs("connect_timeout", 10'000);
  o.statement_timeout_ms = config.getDurationMs("statement_timeout", 30'000);
  return std::make_unique<PostgresSink>(std::move(o), host);
}

std::vector<std::string> PostgresSink::createTableSql(const Options& o, const sdk::TableSpec& t) {
  const bool rw = o.dialect == Dialect::RisingWave;
  std::set<std::string> fixed;
  for (const auto& f : kFixed) fixed.insert(f.name);
  std::string cols;
  for (const auto& f : kFixed) {
    if (!cols.empty()) cols += ",\n  ";
    cols += std::string(f.name) + " " + (rw ? f.rw : f.pg);
  }
  for (const auto& c : t.columns) {
    if (fixed.count(c.name))
      throw std::invalid_argument("column '" + c.name + "' of table '" + t.table +
                                  "' clashes with a built-in column of the postgres sink");
    cols += ",\n  " + quoteIdent(c.name) + " " + sqlType(c.type);
  }
  std::string table = qualified(o, t.table);
  std::vector<std::string> out;
  if (rw) {
    // RisingWave ≥ 1.9: the table-level conflict clause makes a second row with the same primary
    // key a no-op (the default would overwrite it).
    out.push_back("CREATE TABLE IF NOT EXISTS " + table + " (\n  " + cols +
                  "\n) ON CONFLICT DO NOTHING");
    return out;
  }
  out.push_back("CREATE TABLE IF NOT EXISTS " + table + " (\n  " + cols + "\n)");
  // Partial: events without a dedup key ('' ) never collide with each other.
  out.push_back("CREATE UNIQUE INDEX IF NOT EXISTS " + quoteIdent(dedupIndexName(t.table)) +
                " ON " + table + " (dedup_key) WHERE dedup_key <> ''");
  // Columns added to the pipeline later appear in an existing table too.
  for (const auto& c : t.columns)
    out.push_back("ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + quoteIdent(c.name) + " " +
                  sqlType(c.type));
  return out;
}

std::string PostgresSink::insertSql(const Options& o, const sdk::TableSpec& t, size_t rows) {
  std::string sql = "INSERT INTO " + qualified(o, t.table) + " (";
  for (size_t i = 0; i < kFixedCount; ++i) sql += std::string(i ? ", " : "") + kFixed[i].name;
  for (const auto& c : t.columns) sql += ", " + quoteIdent(c.name);
  sql += ") VALUES ";
  const size_t per_row = kFixedCount + (t.columns.empty() ? 0 : 1);
  for (size_t r = 0; r < rows; ++r) {
    size_t base = r * per_row;
    sql += r ? ", (" : "(";
    for (size_t i = 0; i < kFixedCount; ++i)
      sql +=
          std::string(i ? ", " : "") + "$" + std::to_string(base + i + 1) + "::" + kFixed[i].cast;
    for (const auto& c : t.columns) sql += ", " + columnExpr(c, base + kFixedCount + 1);
    sql += ")";
  }
  // No conflict target: DO NOTHING then covers every unique constraint — the primary key (id)
  // and the partial unique index on dedup_key — including duplicates within this statement.
  if (o.dialect == Dialect::Postgres) sql += " ON CONFLICT DO NOTHING";
  return sql;
}

sdk::WriteResult PostgresSink::classify(const std::string& state) {
  if (state.size() != 5) return sdk::WriteResult::Retry;  // no answer: connection trouble
  if (state == "42P01" || state == "42501") return sdk::WriteResult::Retry;  // table gone, grants
  std::string cls = state.substr(0, 2);
  // 22 data exception (bad number, bad timestamp, invalid UTF-8, \u0000 in jsonb, …),
  // 23 integrity constraint, 42 syntax / undefined column, 54 program limit (row too big):
  // the same rows will fail the same way every time.
  if (cls == "22" || cls == "23" || cls == "42" || cls == "54") return sdk::WriteResult::Drop;
  // 08 connection, 40 serialization/deadlock, 53 resources (disk full, too many connections),
  // 57 operator intervention (shutdown, statement timeout), 55, 58, XX, 25 (read-only after a
  // failover), 28/3D (credentials, missing database): may succeed later.
  return sdk::WriteResult::Retry;
}

bool PostgresSink::connect(std::string& error) {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return true;
  disconnect();
  std::string timeout =
      std::to_string(std::max<int64_t>(2, (options_.connect_timeout_ms + 999) / 1000));
  // dbname is expanded last, so whatever the operator's conninfo sets wins over these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {timeout.c_str(), "inlet", "UTF8", options_.conninfo.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    error =
        "cannot connect to PostgreSQL: " + trimmed(conn_ ? PQerrorMessage(conn_) : "out of memory");
    disconnect();
    return false;
  }
  // "relation … already exists, skipping" and friends are expected; libpq would print them.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (options_.dialect == Dialect::Postgres && options_.statement_timeout_ms > 0) {
    std::string state;
    if (!exec("SET statement_timeout = " + std::to_string(options_.statement_timeout_ms), error,
              state)) {
      disconnect();
      return false;
    }
  }
  return true;
}

void PostgresSink::disconnect() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool PostgresSink::exec(const std::string& sql, std::string& error, std::string& sqlstate) {
  PGresult* res = PQexec(conn_, sql.c_str());
  auto status = PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(res);
    return true;
  }
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate = state ? state : "";
  error = trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
  PQclear(res);
  return false;
}

bool PostgresSink::ensureTable(Table& table, std::string& error, std::string& sqlstate) {
  if (table.ensured || !options_.create_tables) {
    table.ensured = true;
    return true;
  }
  for (const auto& sql : createTableSql(options_, table.spec)) {
    if (!exec(sql, error, sqlstate)) {
      error = "cannot create table " + table.spec.table + ": " + error;
      return false;
    }
  }
  table.ensured = true;
  return true;
}

void PostgresSink::prepare(const sdk::TableSpec& spec) {
  // Validate names now: a clash is a configuration error, shown when the pipeline starts.
  createTableSql(options_, spec);
  Table& table = tables_[spec.table];
  table.spec = spec;
  table.ensured = false;
  std::string error, state;
  if (!connect(error)) throw std::runtime_error(error);
  if (!ensureTable(table, error, state)) {
    if (PQstatus(conn_) != CONNECTION_OK) disconnect();
    throw std::runtime_error(error);
  }
}

sdk::WriteResult PostgresSink::failure(const std::string& sqlstate, std::string& error) {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
    disconnect();  // reconnect on the next call
    return sdk::WriteResult::Retry;
  }
  if (options_.dialect == Dialect::Postgres) {
    std::string ignored_error, ignored_state;
    if (!exec("ROLLBACK", ignored_error, ignored_state)) disconnect();
  }
  auto result = classify(sqlstate);
  if (!sqlstate.empty()) error += " [SQLSTATE " + sqlstate + "]";
  return result;
}

sdk::WriteResult PostgresSink::writeTable(Table& table,
                                          const std::vector<const sdk::Event*>& events,
                                          std::string& error) {
  const bool rw = options_.dialect == Dialect::RisingWave;
  const bool with_columns = !table.spec.columns.empty();
  const size_t per_row = kFixedCount + (with_columns ? 1 : 0);
  // The protocol carries at most 65535 parameters per statement.
  const size_t max_rows =
      std::min<size_t>(static_cast<size_t>(options_.max_rows_per_statement), 65535 / per_row);

  std::vector<std::string> owned;  // strings the parameters point into (hex bodies, timestamps)
  for (size_t start = 0; start < events.size(); start += max_rows) {
    size_t rows = std::min(max_rows, events.size() - start);
    std::vector<const char*> values(rows * per_row);
    std::vector<int> lengths(rows * per_row, 0), formats(rows * per_row, 0);
    owned.clear();
    owned.reserve(rows * 2);
    for (size_t r = 0; r < rows; ++r) {
      const sdk::Event& e = *events[start + r];
      size_t b = r * per_row;
      auto text = [&](size_t i, std::string_view v) {
        values[b + i] = v.data() ? v.data() : "";
        lengths[b + i] = static_cast<int>(v.size());
      };
      text(0, e.id);
      text(1, e.pipeline);
      owned.push_back(isoUtcMs(e.received_ms));
      text(2, owned.back());
      text(3, e.provider);
      text(4, e.event_type);
      text(5, e.delivery_id);
      // RisingWave's only uniqueness is the primary key (dedup_key): an event without a dedup
      // key is keyed by its own id there.
      text(6, rw && e.dedup_key.empty() ? e.id : e.dedup_key);
      text(7, e.headers_json.empty() ? std::string_view("{}") : e.headers_json);
      if (rw) {
        owned.push_back(hexBytea(e.body));
        text(kBodyIndex, owned.back());
      } else {
        text(kBodyIndex, e.body);
        formats[b + kBodyIndex] = 1;  // binary: the raw bytes, no escaping
      }
      if (e.data_json.empty())
        values[b + 9] = nullptr;  // SQL NULL
      else
        text(9, e.data_json);
      text(10, e.authenticated ? std::string_view("true") : std::string_view("false"));
      if (with_columns) text(11, e.columns_json.empty() ? std::string_view("{}") : e.columns_json);
    }
    // Text parameters are sent with their lengths, but libpq still reads text-format values up
    // to a NUL; copy the views so every one is NUL-terminated.
    std::vector<std::string> copies(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i] || formats[i] == 1) continue;
      copies[i].assign(values[i], static_cast<size_t>(lengths[i]));
      values[i] = copies[i].c_str();
    }
    std::string sql = insertSql(options_, table.spec, rows);
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                 values.data(), lengths.data(), formats.data(), 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
      std::string sqlstate = state ? state : "";
      error = "insert into " + table.spec.table +
              " failed: " + trimmed(res ? PQresultErrorMessage(res) : PQerrorMessage(conn_));
      PQclear(res);
      if (sqlstate == "42P01") table.ensured = false;  // dropped behind our back: recreate
      return failure(sqlstate, error);
    }
    PQclear(res);
  }
  return sdk::WriteResult::Ok;
}

sdk::WriteResult PostgresSink::write(const std::vector<sdk::Event>& events, std::string& error) {
  if (events.empty()) return sdk::WriteResult::Ok;
  if (!connect(error)) return sdk::WriteResult::Retry;

  // Group by table, keeping the journal order within each.
  std::vector<std::pair<Table*, std::vector<const sdk::Event*>>> groups;
  for (const auto& e : events) {
    std::string name(e.table);
    auto it = tables_.find(name);
    if (it == tables_.end()) {
      // Not announced by prepare(): store what every table has.
      Table t;
      t.spec.pipeline = std::string(e.pipeline);
      t.spec.table = name;
      it = tables_.emplace(name, std::move(t)).first;
    }
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& p) { return p.first == &it->second; });
    if (g == groups.end())
      groups.push_back({&it->second, {&e}});
    else
      g->second.push_back(&e);
  }

  std::string sqlstate;
  // DDL outside the batch's transaction, so a failed CREATE cannot abort the inserts' one.
  for (auto& [table, group] : groups)
    if (!ensureTable(*table, error, sqlstate)) return failure(sqlstate, error);

  const bool rw = options_.dialect == Dialect::RisingWave;
  if (!rw && !exec("BEGIN", error, sqlstate)) return failure(sqlstate, error);
  for (auto& [table, group] : groups) {
    auto r = writeTable(*table, group, error);
    if (r != sdk::WriteResult::Ok) return r;
  }
  // Ok only once the rows are durable: COMMIT in PostgreSQL; in RisingWave, FLUSH waits until
  // the inserted rows are persisted (INSERT alone returns before that).
  if (!exec(rw ? "FLUSH" : "COMMIT", error, sqlstate)) {
    error = (rw ? "flush failed: " : "commit failed: ") + error;
    return failure(sqlstate, error);
  }
  return sdk::WriteResult::Ok;
}

}  // namespace inlet::sinks
