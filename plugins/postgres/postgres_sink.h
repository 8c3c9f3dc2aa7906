// PostgreSQL sink (libpq): one table per pipeline, one transaction per batch, multi-row
// INSERT … ON CONFLICT DO NOTHING so re-sent batches and other Inlet instances writing the same
// database never duplicate an event (unique on id, and on dedup_key where it is set).
// A `risingwave` dialect speaks to RisingWave over the same wire protocol (see README).
#pragma once

#include <inlet/sdk.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct pg_conn;

namespace inlet::sinks {

class PostgresSink : public sdk::Sink {
 public:
  enum class Dialect { Postgres, RisingWave };
  struct Options {
    std::string conninfo;  // libpq keyword/value string or postgresql:// URI
    std::string schema = "public";
    Dialect dialect = Dialect::Postgres;
    int64_t max_rows_per_statement = 500;  // a batch is split into INSERTs of at most this many
    bool create_tables = true;             // CREATE TABLE IF NOT EXISTS (+ index) in prepare()
    int64_t connect_timeout_ms = 10'000;
    int64_t statement_timeout_ms = 30'000;  // postgres dialect: SET statement_timeout
  };

  PostgresSink(Options options, sdk::Host host);
  ~PostgresSink() override;
  static std::unique_ptr<PostgresSink> create(const sdk::Config& config,
                                              const std::vector<sdk::Secret>& secrets,
                                              const sdk::Host& host);

  void prepare(const sdk::TableSpec& table) override;
  sdk::WriteResult write(const std::vector<sdk::Event>& events, std::string& error) override;

  // The exact SQL, exposed for the README and tests.
  static std::vector<std::string> createTableSql(const Options& options,
                                                 const sdk::TableSpec& table);
  static std::string insertSql(const Options& options, const sdk::TableSpec& table, size_t rows);
  static std::string quoteIdent(std::string_view name);
  // Retry or Drop for a failed statement, by SQLSTATE ("" when the server sent none).
  static sdk::WriteResult classify(const std::string& sqlstate);

 private:
  struct Table {
    sdk::TableSpec spec;
    bool ensured = false;
  };
  bool connect(std::string& error);
  void disconnect();
  bool ensureTable(Table& table, std::string& error, std::string& sqlstate);
  bool exec(const std::string& sql, std::string& error, std::string& sqlstate);
  sdk::WriteResult writeTable(Table& table, const std::vector<const sdk::Event*>& events,
                              std::string& error);
  sdk::WriteResult failure(const std::string& sqlstate, std::string& error);

  Options options_;
  sdk::Host host_;
  pg_conn* conn_ = nullptr;
  std::map<std::string, Table> tables_;  // by table name
};

}  // namespace inlet::sinks
