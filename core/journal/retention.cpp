#include "journal/retention.h"

#include <inlet/sql.h>

#include <algorithm>

namespace inlet::journal {

RetentionSweep::RetentionSweep(const std::vector<config::JournalTable>& tables) {
  std::string kept;
  for (const auto& t : tables)
    kept += (kept.empty() ? "" : ", ") + sdk::sql::quoteLiteral(t.pipeline);
  std::string spared = " AND seq NOT IN (SELECT seq FROM dead_letters)";
  if (!kept.empty()) spared += " AND pipeline NOT IN (" + kept + ")";
  // `+seq` and `+received_at` keep each statement on the access path it is written for: a
  // bound on seq alone would pick the rowid and walk the whole table.
  // Full: everything before the retention line (through the received_at index).
  full_sql_ = "DELETE FROM events WHERE received_at < ?1 AND +seq <= ?2" + spared;
  // The events that crossed the retention line since the last run (?3: its line).
  expired_sql_ =
      "DELETE FROM events WHERE received_at >= ?3 AND received_at < ?1 AND +seq <= ?2" + spared;
  // The events behind the last run's line that the sinks delivered since (?4: its floor).
  delivered_sql_ = "DELETE FROM events WHERE seq > ?4 AND seq <= ?2 AND +received_at < ?3" + spared;
}

int64_t RetentionSweep::run(Database& db, int64_t before_ms, uint64_t floor, int64_t now_ms) {
  const auto floor_bound = static_cast<int64_t>(std::min<uint64_t>(floor, INT64_MAX));
  const bool full = !swept_ || now_ms - last_full_ms_ >= kFullSweepEveryMs;
  // After a run, every event it may delete with received_at < swept_before_ms_ and
  // seq <= swept_floor_ is gone; the two statements cover the rest of this run's range, whichever
  // way the bounds moved (a clock set back, say).
  int64_t deleted = 0, steps = 0;
  auto runOne = [&](const std::string& sql) {
    Statement st(db.get(), sql.c_str());
    // Each statement takes the first two, three or four of the same parameters.
    const int params = sqlite3_bind_parameter_count(st.get());
    st.bind(1, before_ms).bind(2, floor_bound);
    if (params >= 3) st.bind(3, swept_before_ms_);
    if (params >= 4) st.bind(4, swept_floor_);
    st.step();
    steps += sqlite3_stmt_status(st.get(), SQLITE_STMTSTATUS_VM_STEP, 0);
    deleted += db.changes();
  };
  db.transaction("BEGIN IMMEDIATE", [&] {
    if (full) {
      runOne(full_sql_);
    } else {
      runOne(expired_sql_);
      runOne(delivered_sql_);
    }
  });
  // Only once committed: a run that failed leaves the next one to cover its range.
  if (full) last_full_ms_ = now_ms;
  swept_ = true;
  swept_before_ms_ = before_ms;
  swept_floor_ = floor_bound;
  last_steps_ = steps;
  return deleted;
}

}  // namespace inlet::journal
