#include "http_sink.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false, "required": ["url"],
  "properties": {
    "url": {"type": "string", "description": "downstream endpoint, http(s)://host[:port]/path"},
    "ca_file": {"type": "string",
                "description": "https: PEM file of the CAs to trust instead of the system's"},
    "timeout": {"type": "string", "default": "10s",
                "description": "connect / send / receive timeout per request (e.g. 10s, 500ms)"},
    "headers": {"type": "object", "description": "extra static headers (name: string value) sent with every request"}
  }})json";
}  // namespace

INLET_SINK_PLUGIN(inlet::sinks::HttpSink, "http", "1.0.0",
                  "forwards each event's raw body to a downstream HTTP(S) endpoint", kSchema)
