// The embedded store: one SQLite table per pipeline, the JSON in a `data` column that sqlite3's
// JSON functions read (json_extract(data, '$.action')). WAL + synchronous=FULL by default.
#pragma once

#include <inlet/sdk.h>
#include <sqlite3.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace inlet::sinks {

class SqliteSink : public sdk::Sink {
 public:
  struct Options {
    std::string path;
    std::string synchronous = "full";  // full | normal
    int64_t busy_timeout_ms = 5000;
    // A unique index on dedup_key: an event is refused when its key is already stored, even
    // under another id (several Inlet instances on one file, or a key re-sent after the dedup
    // window). Off by default: the journal already stores a key once per window, and the index
    // costs one random page per event.
    bool unique_dedup_key = false;
  };
  explicit SqliteSink(Options options);
  ~SqliteSink() override;
  static std::unique_ptr<SqliteSink> create(const sdk::Config& config,
                                            const std::vector<sdk::Secret>&, const sdk::Host& host);

  void prepare(const sdk::TableSpec& table) override;
  sdk::WriteResult write(const std::vector<sdk::Event>& events, std::string& error) override;

 private:
  void open();
  void exec(const std::string& sql);
  struct Table {
    sdk::TableSpec spec;
    bool body_raw = false;           // false: a table from before `body_raw`, bodies go to `body`
    sqlite3_stmt* insert = nullptr;  // prepared on first use
  };
  // The prepared table, its insert statement ready; throws if `table` was never prepared.
  const Table& insertFor(std::string_view table);

  Options options_;
  sqlite3* db_ = nullptr;
  std::map<std::string, Table, std::less<>> tables_;  // by table name
};

}  // namespace inlet::sinks
