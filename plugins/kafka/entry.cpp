#include "kafka_sink.h"

namespace {
const char kSchema[] = R"json({
  "type": "object", "additionalProperties": false,
  "properties": {
    "brokers": {"type": "string", "description": "bootstrap servers, host:port[,host:port…]"},
    "topic": {"type": "string", "default": "inlet.{pipeline}",
              "description": "topic name template; {pipeline} and {table} are replaced"},
    "properties": {"type": "object",
                   "description": "extra librdkafka settings (string values), applied after the sink's own"},
    "timeout": {"type": "string", "default": "30s",
                "description": "how long a batch waits for every delivery report (also message.timeout.ms)"}
  }})json";
}  // namespace

INLET_SINK_PLUGIN(inlet::sinks::KafkaSink, "kafka", "1.0.0",
                  "Kafka / Redpanda topic: idempotent producer, key = dedup key, value = raw body",
                  kSchema)
