#include "postgres_sink.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "conninfo": {"type": "string",
                 "description": "libpq connection string: 'host=… dbname=… user=…' or postgresql://…"},
    "dsn": {"type": "string", "description": "alias of conninfo"},
    "schema": {"type": "string", "default": "public", "description": "schema the tables live in"},
    "dialect": {"type": "string", "enum": ["postgres", "risingwave"], "default": "postgres",
                "description": "SQL flavour of the server (see README: RisingWave)"},
    "max_rows_per_statement": {"type": "integer", "minimum": 1, "default": 500,
                               "description": "a batch is written as INSERTs of at most this many rows, in one transaction"},
    "create_tables": {"type": "boolean", "default": true,
                      "description": "create missing tables, the dedup index and new columns"},
    "connect_timeout": {"type": "string", "default": "10s", "description": "connection timeout"},
    "statement_timeout": {"type": "string", "default": "30s",
                          "description": "postgres dialect: server-side statement timeout (0 = none)"}
  }})json";
}  // namespace

INLET_SINK_PLUGIN(inlet::sinks::PostgresSink, "postgres", "1.0.0",
                  "PostgreSQL / RisingWave table per pipeline, idempotent batched INSERTs", kSchema)
