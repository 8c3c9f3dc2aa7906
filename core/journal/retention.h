// The journal's retention sweep: once a minute the writer deletes the events past retention that
// every sink has delivered, except dead letters and the events of tables the journal serves
// (those are the tables' rows, kept until a user deletes them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "journal/sqlite.h"

namespace inlet::journal {

class RetentionSweep {
 public:
  explicit RetentionSweep(const std::vector<config::JournalTable>& tables);

  // Deletes, in one transaction, the events received before `before_ms` with seq <= `floor`;
  // returns how many. Throws SqliteError (the next run then covers this one's range too). The
  // first run, and one a day after it (`now_ms`), reads every event before `before_ms`. Every
  // other run reads only what changed since the run before: the events that crossed the
  // retention line since, and those the sinks delivered since. The events a sweep keeps (a
  // table's rows, dead letters, events not yet delivered) are thus not read again every
  // minute. The daily run picks up events whose dead letters a replay has removed.
  int64_t run(Database& db, int64_t before_ms, uint64_t floor, int64_t now_ms);

  // SQLite virtual machine steps of the last run: how much it read (tests).
  int64_t lastSteps() const { return last_steps_; }
  // The full run's statement (tests: its query plan).
  const std::string& fullSql() const { return full_sql_; }

  static constexpr int64_t kFullSweepEveryMs = 24LL * 3600 * 1000;

 private:
  std::string full_sql_, expired_sql_, delivered_sql_;
  bool swept_ = false;  // a run succeeded, and the fields below describe it
  int64_t swept_before_ms_ = 0, swept_floor_ = 0, last_full_ms_ = 0;
  int64_t last_steps_ = 0;
};

}  // namespace inlet::journal
