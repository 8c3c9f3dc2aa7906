// Tables the journal serves itself: a pipeline with a sink of type `journal` gets its `table:`
// as a view in the journal's database over that pipeline's events. The event is written once,
// by the group commit that acknowledges it, and is in the table the moment its 2xx is sent: no
// second copy, no second fsync, no delivery thread. The journal never prunes those events.
//
// The view has the columns of the sqlite sink's table (id, received_at as ISO-8601 text,
// pipeline, provider, event_type, delivery_id, dedup_key, headers, body, data, authenticated,
// then the pipeline's typed columns), then `seq`, the journal's position (strictly increasing).
// `DELETE FROM <table> WHERE …` deletes the events from the journal (an INSTEAD OF trigger).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "journal/sqlite.h"

namespace inlet::journal {

// The statements that create `t`'s view and its delete trigger.
std::string tableSql(const config::JournalTable& t);

// Creates each table's view (replacing one Inlet created before, whose columns may differ) on
// the journal's write connection, inside the caller's transaction. Throws SqliteError, naming
// the table, when a table, index, view or trigger that Inlet did not create has that name.
void serveTables(Database& db, const std::vector<config::JournalTable>& tables);

}  // namespace inlet::journal
