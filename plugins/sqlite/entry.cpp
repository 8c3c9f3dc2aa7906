#include "sqlite_sink.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false, "required": ["path"],
  "properties": {
    "path": {"type": "string", "description": "database file (created with its folder if missing)"},
    "synchronous": {"type": "string", "enum": ["full", "normal"], "default": "full",
                    "description": "full: fsync every batch (durable); normal: faster, may lose the last batches on power loss (the journal still has them)"},
    "busy_timeout": {"type": "string", "default": "5s",
                     "description": "how long to wait for another writer (e.g. the sqlite3 CLI) before retrying"},
    "unique_dedup_key": {"type": "boolean", "default": false,
                         "description": "refuse an event whose dedup key is already stored under another id (several instances on one file); costs one random index page per event"}
  }})json";
}  // namespace

INLET_SINK_PLUGIN(
    inlet::sinks::SqliteSink, "sqlite", "1.0.0",
    "Embedded SQLite store: one table per pipeline, JSON queryable with json_extract()", kSchema)
