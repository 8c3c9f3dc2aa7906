#include "journal/tables.h"

#include <inlet/sql.h>

#include <optional>

namespace inlet::journal {

namespace {

using sdk::sql::quoteIdent;
using sdk::sql::quoteLiteral;

// Written into every view Inlet creates, so that a start never replaces a view of someone
// else's (sqlite_schema keeps the statement's text, comments included).
constexpr const char* kMark = "/* inlet: journal table */";

// The same value the sqlite sink stores for a typed column (its insert reads them from the
// event's columns JSON with the same operators; REAL affinity there, a CAST here).
std::string columnExpr(const config::ColumnConfig& c) {
  using T = config::ColumnConfig::Type;
  const std::string path = quoteLiteral("$.\"" + c.name + "\"");
  switch (c.type) {
    case T::Json:
      return "nullif(columns -> " + path + ", 'null')";
    case T::Real:
      return "CAST(columns ->> " + path + " AS REAL)";
    default:
      return "columns ->> " + path;
  }
}

}  // namespace

std::string tableSql(const config::JournalTable& t) {
  std::string sql = "CREATE VIEW " + quoteIdent(t.table) + " AS SELECT " + kMark +
                    " id, strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch') AS "
                    "received_at, pipeline, provider, event_type, delivery_id, dedup_key, "
                    "headers, coalesce(body, CAST(data AS BLOB)) AS body, data, authenticated";
  for (const auto& c : t.columns) sql += ", " + columnExpr(c) + " AS " + quoteIdent(c.name);
  sql += ", seq FROM events WHERE pipeline = " + quoteLiteral(t.pipeline) + ";\n";
  sql += "CREATE TRIGGER " + quoteIdent(t.table + "_delete") + " INSTEAD OF DELETE ON " +
         quoteIdent(t.table) + " BEGIN DELETE FROM events WHERE seq = old.seq; END;";
  return sql;
}

void serveTables(Database& db, const std::vector<config::JournalTable>& tables) {
  if (tables.empty()) return;
  Statement find(db.get(),
                 "SELECT type, name, coalesce(sql, '') FROM sqlite_schema "
                 "WHERE name = ?1 COLLATE NOCASE");
  struct Found {
    std::string type, name, sql;
  };
  auto lookup = [&](const std::string& name) {
    std::optional<Found> found;
    find.bind(1, name);
    if (find.step()) found = Found{find.text(0), find.text(1), find.text(2)};
    find.reset();
    return found;
  };
  for (const auto& t : tables) {
    // The view first: dropping one of Inlet's also drops its trigger.
    for (const auto& name : {t.table, t.table + "_delete"}) {
      auto found = lookup(name);
      if (!found) continue;
      if (found->type != "view" || found->sql.find(kMark) == std::string::npos)
        throw SqliteError("the " + found->type + " '" + found->name +
                          "' in the journal's database was not created by Inlet: choose "
                          "another table for pipeline '" +
                          t.pipeline + "', or drop it");
      db.exec(("DROP VIEW " + quoteIdent(found->name)).c_str());
    }
    db.exec(tableSql(t).c_str());
  }
}

}  // namespace inlet::journal
