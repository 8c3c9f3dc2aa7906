#include "file_sink.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false, "required": ["path"],
  "properties": {
    "path": {"type": "string",
             "description": "JSON Lines file to append to; rotated files are <path>.<UTC timestamp>"},
    "max_bytes": {"type": "integer", "minimum": 0, "default": 0,
                  "description": "rotate before a batch would make the file larger than this (0: never)"},
    "rotate_every": {"type": "string",
                     "description": "rotate when this period (e.g. 1h, 1d; aligned to the Unix epoch, UTC) changes"},
    "fsync": {"type": "boolean", "default": true,
              "description": "fsync the file after every batch (and its directory on create/rotate)"}
  }})json";
}  // namespace

INLET_SINK_PLUGIN(inlet::sinks::FileSink, "file", "1.0.0",
                  "JSON Lines file, fsync per batch, rotation by size and time", kSchema)
