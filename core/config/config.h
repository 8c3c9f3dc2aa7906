// The validated, immutable configuration. Loading never throws past loadConfig(): every
// problem becomes a "file:line:col: message" entry, and any entry means the server refuses to
// start (fail closed).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace inlet::config {

struct Position {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string str() const;
};

struct Error {
  Position where;
  std::string message;
  std::string str() const { return where.str() + ": " + message; }
};

struct SecretConfig {
  enum class Source { Env, File, Value };
  std::string name;
  Source source = Source::Value;
  std::string argument;  // variable name, file path, or the literal value
  Position where;
};

struct RetryConfig {
  int max_attempts = 12;
  int64_t initial_backoff_ms = 500;
  int64_t max_backoff_ms = 300'000;
};

struct SinkConfig {
  std::string name;
  std::string type;    // plugin name
  YAML::Node options;  // everything but the host's own keys (type, retry, batch_size, batch_wait)
  RetryConfig retry;
  int batch_size = 500;
  int64_t batch_wait_ms = 10;  // after a batch smaller than batch_size, wait this long for more
  Position where;
};

struct DedupConfig {
  enum class Kind { None, Auto, Header, Json };
  Kind kind = Kind::None;
  std::string argument;  // header name (lower-case) or JSON pointer
  int64_t window_ms = 72LL * 3600 * 1000;
};

struct ColumnConfig {
  enum class Type { Text, Integer, Real, Boolean, Timestamp, Json };
  std::string name;
  Type type = Type::Text;
  std::string pointer;  // JSON pointer into the event's JSON, or
  std::string header;   // a request header (lower-case)
  bool required = false;
};

struct RateLimitConfig {
  double per_second = 0;  // 0 = unlimited
  double burst = 0;
};

struct PipelineConfig {
  std::string name;
  std::string path;
  std::vector<std::string> methods{"POST"};
  std::string provider;
  std::vector<std::string> secrets;
  YAML::Node auth_options;
  Position auth_where;
  DedupConfig dedup;
  std::vector<std::string> sinks;
  std::string table;
  enum class Decode { Json, Raw, Form } decode = Decode::Json;
  enum class Split { None, Jsonl, Array } split = Split::None;
  std::vector<ColumnConfig> columns;
  int64_t max_body_bytes = 0;  // 0 = server default
  std::string public_url;      // scheme://host[:port] the provider was told to call
  enum class Ack { Durable, Delivered } ack = Ack::Durable;
  int64_t ack_timeout_ms = 10'000;
  std::vector<std::string> allow_ips;  // CIDR or address; empty = any
  RateLimitConfig rate_limit;
  Position where;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  int64_t max_body_bytes = 2 * 1024 * 1024;
  int threads = 0;                       // event-loop threads; 0 = one per core but one (min 1)
  int max_connections = 10'000;          // open connections; more are answered 503 and closed
  int64_t max_header_bytes = 32 * 1024;  // request line + headers
  int max_headers = 100;
  int64_t read_timeout_ms = 10'000;
  int64_t keepalive_timeout_ms = 15'000;
  int max_keepalive_requests = 1000;
  int max_inflight = 8192;  // requests waiting for the journal before 503 overloaded
  // Request bodies held in memory at once (being read, or waiting for the journal); a body that
  // would pass it is refused 503 overloaded. At least every pipeline's max_body_bytes.
  int64_t max_buffered_bytes = 256LL * 1024 * 1024;
  int64_t shutdown_grace_ms = 10'000;
  int background_nice = 5;  // added to the nice value of sink delivery and journal checkpoints
};

// The sink type the journal serves itself: no plugin, no second copy. A pipeline's `table:` is
// then a view in the journal's database over that pipeline's events, which the journal keeps
// (retention does not prune them).
inline constexpr const char* kJournalSinkType = "journal";

// Whether `table` (any case) is a name the journal's database uses itself, which no table it
// serves may take.
bool isJournalOwnTable(const std::string& table);

// A table served by the journal (a pipeline with a sink of type `journal`).
struct JournalTable {
  std::string table, pipeline;
  std::vector<ColumnConfig> columns;
};

struct JournalConfig {
  std::string path = "data/journal.db";
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;
  int max_batch = 1024;  // events per group commit
  // Dedup claims kept in memory before they are moved, sorted, into the claims database (not a
  // YAML setting; tests lower it).
  size_t claims_flush_at = 65536;
  size_t claims_merge_fan_in = 8;  // segments of the claims database merged at once (likewise)
  // The journal file's last bytes that stay in the OS page cache after a checkpoint; older pages
  // are dropped from it (likewise).
  int64_t cached_tail_bytes = 256LL << 20;
  std::vector<JournalTable> tables;  // derived from sinks of type `journal`, not a YAML key
};

struct Config {
  std::string file;      // the config file path
  std::string base_dir;  // its directory (relative paths in the config resolve from the CWD)
  ServerConfig server;
  JournalConfig journal;
  std::vector<std::string> plugin_paths{"build/plugins"};
  std::string log_level = "info";
  std::map<std::string, SecretConfig> secrets;
  std::map<std::string, SinkConfig> sinks;
  std::vector<PipelineConfig> pipelines;  // in file order
};

struct LoadResult {
  std::optional<Config> config;
  std::vector<Error> errors;
  bool ok() const { return config && errors.empty(); }
};

LoadResult loadConfigFile(const std::string& path);
LoadResult loadConfigText(const std::string& text, const std::string& file_label);

Position positionOf(const std::string& file, const YAML::Node& node);

// Resolves a secret's value (env, file or literal). Returns nullopt and sets `error` (which never
// contains the value) when it cannot.
std::optional<std::string> resolveSecret(const SecretConfig& secret, std::string& error);

}  // namespace inlet::config
