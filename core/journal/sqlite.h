// Minimal RAII over the SQLite C API (the journal and the delivery readers share it).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace inlet::journal {

// Process-wide SQLite settings; call before the first connection is opened (later it is a
// no-op). Turns off SQLite's memory statistics: with them on, every sqlite3_malloc in the
// process (journal writer, delivery readers, sink plugins, JSON checks on the event loops) takes
// one global mutex, the most contended lock under load.
void configureSqliteProcess();

class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;

  Statement& bind(int i, std::string_view text);  // TEXT (NULL when `null_if_empty` and empty)
  Statement& bindBlob(int i, std::string_view bytes);
  Statement& bindNullableText(int i, std::string_view text);
  Statement& bind(int i, int64_t v);
  Statement& bindNull(int i);
  // True when a row is available. On an error it resets the statement (and its bindings)
  // before throwing, so that a failed statement never holds the connection.
  bool step();
  void reset();
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const;
  std::string_view view(int col) const;  // valid until the next step or reset
  bool isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  bool isBlob(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_BLOB; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// How a connection's writes reach the disk: as SQLite makes them, or paced for a connection
// that writes in the background (journal/paced_vfs.h).
enum class Writes { Direct, Paced };

class Database {
 public:
  Database(const std::string& path, bool read_only, Writes writes = Writes::Direct);
  ~Database();
  Database(const Database&) = delete;
  void exec(const char* sql);
  // Runs `body` between `begin` (e.g. "BEGIN IMMEDIATE") and COMMIT; when either throws, rolls
  // back and rethrows.
  template <class Body>
  void transaction(const char* begin, Body&& body) {
    exec(begin);
    try {
      body();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
  sqlite3* get() const { return db_; }
  int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace inlet::journal
