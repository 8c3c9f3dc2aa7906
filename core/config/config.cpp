#include "config/config.h"

#include <inlet/sdk.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace inlet::config {

std::string Position::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Position positionOf(const std::string& file, const YAML::Node& node) {
  Position p;
  p.file = file;
  if (node.IsDefined()) {
    auto m = node.Mark();
    if (!m.is_null()) {
      p.line = m.line + 1;
      p.column = m.column + 1;
    }
  }
  return p;
}

namespace {

// Reads typed fields and records every problem instead of stopping at the first.
class Reader {
 public:
  Reader(std::string file, std::vector<Error>& errors) : file_(std::move(file)), errors_(errors) {}

  void fail(const YAML::Node& at, const std::string& message) {
    errors_.push_back({positionOf(file_, at), message});
  }
  Position pos(const YAML::Node& n) const { return positionOf(file_, n); }

  // yaml-cpp 0.7 silently keeps the first of two duplicate keys: walk every map ourselves.
  void checkDuplicates(const YAML::Node& node) {
    if (node.IsMap()) {
      std::set<std::string> seen;
      for (const auto& kv : node) {
        if (kv.first.IsScalar()) {
          auto key = kv.first.Scalar();
          if (!seen.insert(key).second) fail(kv.first, "duplicate key '" + key + "'");
        }
        checkDuplicates(kv.second);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) checkDuplicates(item);
    }
  }

  bool isMap(const YAML::Node& node, const std::string& what) {
    if (!node.IsMap()) {
      fail(node, what + " must be a mapping");
      return false;
    }
    return true;
  }

  void allowOnly(const YAML::Node& map, std::initializer_list<const char*> keys,
                 const std::string& what) {
    std::set<std::string> allowed(keys.begin(), keys.end());
    for (const auto& kv : map) {
      auto key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        fail(kv.first, "unknown key '" + key + "' in " + what + " (allowed: " + list + ")");
      }
    }
  }

  std::optional<std::string> str(const YAML::Node& map, const char* key, bool required = false) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) {
      if (required) fail(map, std::string("missing required key '") + key + "'");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      fail(n, std::string("'") + key + "' must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  template <class Int>
  void integer(const YAML::Node& map, const char* key, Int& out, long long min, long long max) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    long long v = 0;
    if (!n.IsScalar() || !parseInt(n.Scalar(), v)) {
      fail(n, std::string("'") + key + "' must be an integer");
      return;
    }
    if (v < min || v > max) {
      fail(n, std::string("'") + key + "' must be between " + std::to_string(min) + " and " +
                  std::to_string(max));
      return;
    }
    out = static_cast<Int>(v);
  }

  void number(const YAML::Node& map, const char* key, double& out) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    try {
      if (!n.IsScalar()) throw std::invalid_argument("");
      size_t used = 0;
      out = std::stod(n.Scalar(), &used);
      if (used != n.Scalar().size() || out < 0) throw std::invalid_argument("");
    } catch (...) {
      fail(n, std::string("'") + key + "' must be a non-negative number");
    }
  }

  void boolean(const YAML::Node& map, const char* key, bool& out) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      out = n.Scalar() == "true";
      return;
    }
    fail(n, std::string("'") + key + "' must be true or false");
  }

  void duration(const YAML::Node& map, const char* key, int64_t& out_ms) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    try {
      if (!n.IsScalar()) throw std::invalid_argument("not a scalar");
      out_ms = sdk::parseDurationMs(n.Scalar());
    } catch (const std::exception& e) {
      fail(n,
           std::string("'") + key + "' must be a duration like 300s, 5m, 72h (" + e.what() + ")");
    }
  }

  void bytes(const YAML::Node& map, const char* key, int64_t& out) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return;
    std::string s = n.IsScalar() ? n.Scalar() : "";
    long long mult = 1;
    auto suffix = [&](const char* suf, long long m) {
      size_t l = std::strlen(suf);
      if (s.size() > l && s.compare(s.size() - l, l, suf) == 0) {
        s.resize(s.size() - l);
        mult = m;
        return true;
      }
      return false;
    };
    suffix("KiB", 1024) || suffix("MiB", 1024 * 1024) || suffix("GiB", 1024LL * 1024 * 1024);
    long long v = 0;
    if (!parseInt(s, v) || v <= 0 || v > (1LL << 40) / mult) {
      fail(n,
           std::string("'") + key + "' must be a positive size in bytes (or with KiB, MiB, GiB)");
      return;
    }
    out = v * mult;
  }

  std::vector<std::string> strings(const YAML::Node& map, const char* key) {
    std::vector<std::string> out;
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) {
      fail(n, std::string("'") + key + "' must be a list of strings");
      return out;
    }
    for (const auto& item : n) {
      if (!item.IsScalar())
        fail(item, std::string("'") + key + "' must contain only strings");
      else
        out.push_back(item.Scalar());
    }
    return out;
  }

  static bool parseInt(const std::string& s, long long& v) {
    if (s.empty()) return false;
    try {
      size_t used = 0;
      v = std::stoll(s, &used, 10);
      return used == s.size();
    } catch (...) {
      return false;
    }
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<Error>& errors_;
};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool validIdentifier(const std::string& s) {
  static const std::regex re("^[A-Za-z_][A-Za-z0-9_]{0,62}$");
  return std::regex_match(s, re);
}

void readServer(Reader& r, const YAML::Node& n, ServerConfig& s) {
  if (!r.isMap(n, "server")) return;
  r.allowOnly(n,
              {"listen", "max_body_bytes", "threads", "max_connections", "max_header_bytes",
               "max_headers", "read_timeout", "keepalive_timeout", "max_keepalive_requests",
               "max_inflight", "max_buffered_bytes", "shutdown_grace", "background_nice"},
              "server");
  if (auto v = r.str(n, "listen")) s.listen = *v;
  r.bytes(n, "max_body_bytes", s.max_body_bytes);
  r.integer(n, "threads", s.threads, 0, 256);
  r.integer(n, "max_connections", s.max_connections, 1, 1'000'000);
  r.bytes(n, "max_header_bytes", s.max_header_bytes);
  r.integer(n, "max_headers", s.max_headers, 1, 10'000);
  r.duration(n, "read_timeout", s.read_timeout_ms);
  r.duration(n, "keepalive_timeout", s.keepalive_timeout_ms);
  r.integer(n, "max_keepalive_requests", s.max_keepalive_requests, 1, 1'000'000);
  r.integer(n, "max_inflight", s.max_inflight, 1, 10'000'000);
  r.bytes(n, "max_buffered_bytes", s.max_buffered_bytes);
  r.duration(n, "shutdown_grace", s.shutdown_grace_ms);
  r.integer(n, "background_nice", s.background_nice, 0, 19);
}

void readJournal(Reader& r, const YAML::Node& n, JournalConfig& j) {
  if (!r.isMap(n, "journal")) return;
  r.allowOnly(n, {"path", "retention", "max_batch"}, "journal");
  if (auto v = r.str(n, "path")) j.path = *v;
  r.duration(n, "retention", j.retention_ms);
  r.integer(n, "max_batch", j.max_batch, 1, 100'000);
}

void readSecrets(Reader& r, const YAML::Node& n, Config& c) {
  if (!r.isMap(n, "secrets")) return;
  for (const auto& kv : n) {
    SecretConfig s;
    s.name = kv.first.Scalar();
    s.where = r.pos(kv.first);
    if (!validIdentifier(s.name))
      r.fail(kv.first, "secret name '" + s.name + "' must be an identifier");
    const auto& body = kv.second;
    if (!r.isMap(body, "secret '" + s.name + "'")) continue;
    r.allowOnly(body, {"env", "file", "value"}, "secret '" + s.name + "'");
    int sources = 0;
    if (auto v = r.str(body, "env")) {
      s.source = SecretConfig::Source::Env;
      s.argument = *v;
      ++sources;
    }
    if (auto v = r.str(body, "file")) {
      s.source = SecretConfig::Source::File;
      s.argument = *v;
      ++sources;
    }
    if (auto v = r.str(body, "value")) {
      s.source = SecretConfig::Source::Value;
      s.argument = *v;
      ++sources;
    }
    if (sources != 1) r.fail(body, "secret '" + s.name + "' needs exactly one of env, file, value");
    c.secrets[s.name] = s;
  }
}

void readSinks(Reader& r, const YAML::Node& n, Config& c) {
  if (!r.isMap(n, "sinks")) return;
  for (const auto& kv : n) {
    SinkConfig s;
    s.name = kv.first.Scalar();
    s.where = r.pos(kv.first);
    if (!validIdentifier(s.name))
      r.fail(kv.first, "sink name '" + s.name + "' must be an identifier");
    const auto& body = kv.second;
    if (!r.isMap(body, "sink '" + s.name + "'")) continue;
    if (auto t = r.str(body, "type", true)) s.type = *t;
    if (s.type == kJournalSinkType) {
      // Nothing to deliver, batch or retry: the journal's own commit writes the table.
      r.allowOnly(body, {"type"}, "sink '" + s.name + "' (type journal)");
      c.sinks[s.name] = s;
      continue;
    }
    r.integer(body, "batch_size", s.batch_size, 1, 100'000);
    r.duration(body, "batch_wait", s.batch_wait_ms);
    if (s.batch_wait_ms > 10'000) r.fail(body["batch_wait"], "'batch_wait' must be at most 10s");
    auto retry = body["retry"];
    if (retry.IsDefined() && r.isMap(retry, "retry")) {
      r.allowOnly(retry, {"max_attempts", "initial_backoff", "max_backoff"}, "retry");
      r.integer(retry, "max_attempts", s.retry.max_attempts, 1, 1'000'000);
      r.duration(retry, "initial_backoff", s.retry.initial_backoff_ms);
      r.duration(retry, "max_backoff", s.retry.max_backoff_ms);
    }
    // Everything but the host's own keys goes to the plugin.
    static const std::set<std::string> host_keys = {"type", "retry", "batch_size", "batch_wait"};
    s.options = YAML::Node(YAML::NodeType::Map);
    for (const auto& o : body)
      if (!host_keys.count(o.first.Scalar())) s.options[o.first] = o.second;
    c.sinks[s.name] = s;
  }
}

std::optional<ColumnConfig::Type> columnType(const std::string& t) {
  using T = ColumnConfig::Type;
  static const std::map<std::string, T> types = {
      {"text", T::Text},       {"integer", T::Integer},     {"real", T::Real},
      {"boolean", T::Boolean}, {"timestamp", T::Timestamp}, {"json", T::Json}};
  auto it = types.find(t);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

void readPipeline(Reader& r, const std::string& name, const YAML::Node& key, const YAML::Node& n,
                  Config& c) {
  PipelineConfig p;
  p.name = name;
  p.where = r.pos(key);
  static const std::regex pipeline_name("^[A-Za-z_][A-Za-z0-9_-]{0,62}$");
  if (!std::regex_match(name, pipeline_name))
    r.fail(key, "pipeline name '" + name + "' must be letters, digits, '_' or '-'");
  if (!r.isMap(n, "pipeline '" + name + "'")) return;
  r.allowOnly(n,
              {"path", "methods", "auth", "dedup", "sinks", "table", "decode", "split", "columns",
               "max_body_bytes", "public_url", "ack", "ack_timeout", "allow_ips", "rate_limit"},
              "pipeline '" + name + "'");
  p.path = r.str(n, "path").value_or("/webhook/" + name);
  if (p.path.empty() || p.path[0] != '/') r.fail(n["path"], "path must start with '/'");
  if (p.path.find('?') != std::string::npos) r.fail(n["path"], "path must not contain a query");
  if (n["methods"].IsDefined()) {
    p.methods.clear();
    for (auto m : r.strings(n, "methods")) {
      for (auto& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      p.methods.push_back(m);
    }
    if (p.methods.empty()) r.fail(n["methods"], "methods must not be empty");
  }

  auto auth = n["auth"];
  if (!auth.IsDefined()) {
    r.fail(n,
           "pipeline '" + name +
               "' needs an 'auth' section (use provider: none to accept unauthenticated requests)");
  } else if (r.isMap(auth, "auth")) {
    p.auth_where = r.pos(auth);
    if (auto v = r.str(auth, "provider", true)) p.provider = *v;
    p.secrets = r.strings(auth, "secrets");
    p.auth_options = YAML::Node(YAML::NodeType::Map);
    for (const auto& o : auth) {
      auto k = o.first.Scalar();
      if (k != "provider" && k != "secrets") p.auth_options[o.first] = o.second;
    }
  }

  auto dedup = n["dedup"];
  if (dedup.IsDefined() && r.isMap(dedup, "dedup")) {
    r.allowOnly(dedup, {"key", "window"}, "dedup");
    std::string k = r.str(dedup, "key").value_or("auto");
    if (k == "auto")
      p.dedup.kind = DedupConfig::Kind::Auto;
    else if (k == "none")
      p.dedup.kind = DedupConfig::Kind::None;
    else if (k.rfind("header:", 0) == 0 && k.size() > 7) {
      p.dedup.kind = DedupConfig::Kind::Header;
      p.dedup.argument = lower(k.substr(7));
    } else if (k.rfind("json:", 0) == 0 && k.size() > 5 && k[5] == '/') {
      p.dedup.kind = DedupConfig::Kind::Json;
      p.dedup.argument = k.substr(5);
    } else
      r.fail(dedup["key"], "dedup key must be auto, none, header:<name> or json:/<pointer>");
    r.duration(dedup, "window", p.dedup.window_ms);
  }

  p.sinks = r.strings(n, "sinks");
  std::string default_table = name;
  std::replace(default_table.begin(), default_table.end(), '-', '_');
  p.table = r.str(n, "table").value_or(default_table);
  if (!validIdentifier(p.table))
    r.fail(n["table"], "table '" + p.table + "' must be an identifier");
  if (auto d = r.str(n, "decode")) {
    if (*d == "json")
      p.decode = PipelineConfig::Decode::Json;
    else if (*d == "raw")
      p.decode = PipelineConfig::Decode::Raw;
    else if (*d == "form")
      p.decode = PipelineConfig::Decode::Form;
    else
      r.fail(n["decode"], "decode must be json, raw or form");
  }
  if (auto s = r.str(n, "split")) {
    if (*s == "none")
      p.split = PipelineConfig::Split::None;
    else if (*s == "jsonl")
      p.split = PipelineConfig::Split::Jsonl;
    else if (*s == "array")
      p.split = PipelineConfig::Split::Array;
    else
      r.fail(n["split"], "split must be none, jsonl or array");
  }
  if (p.split != PipelineConfig::Split::None && p.decode == PipelineConfig::Decode::Form)
    r.fail(n["split"], "split needs decode: json");

  auto cols = n["columns"];
  if (cols.IsDefined()) {
    if (!cols.IsSequence()) {
      r.fail(cols, "columns must be a list");
    } else {
      std::set<std::string> names;
      for (const auto& col : cols) {
        if (!r.isMap(col, "column")) continue;
        r.allowOnly(col, {"name", "type", "pointer", "header", "required"}, "column");
        ColumnConfig cc;
        cc.name = r.str(col, "name", true).value_or("");
        if (!cc.name.empty() && !validIdentifier(cc.name))
          r.fail(col["name"], "column name must be an identifier");
        static const std::set<std::string> reserved = {
            "id",        "pipeline", "received_at", "provider", "event_type",    "delivery_id",
            "dedup_key", "headers",  "body",        "data",     "authenticated", "seq",
            "body_raw"};
        if (reserved.count(lower(cc.name)))
          r.fail(col["name"], "column name '" + cc.name + "' is reserved");
        if (!cc.name.empty() && !names.insert(lower(cc.name)).second)
          r.fail(col["name"], "duplicate column '" + cc.name + "'");
        auto t = r.str(col, "type").value_or("text");
        if (auto ty = columnType(t))
          cc.type = *ty;
        else
          r.fail(col["type"],
                 "column type must be text, integer, real, boolean, timestamp or json");
        auto ptr = r.str(col, "pointer");
        auto hdr = r.str(col, "header");
        if (ptr && hdr) r.fail(col, "a column takes either pointer or header, not both");
        if (ptr) {
          if (!ptr->empty() && (*ptr)[0] != '/')
            r.fail(col["pointer"], "pointer must be a JSON pointer (start with '/')");
          cc.pointer = *ptr;
        } else if (hdr) {
          cc.header = lower(*hdr);
        } else {
          cc.pointer = "/" + cc.name;  // RisingWave fills columns from top-level keys
        }
        r.boolean(col, "required", cc.required);
        p.columns.push_back(cc);
      }
    }
  }
  if (n["max_body_bytes"].IsDefined()) r.bytes(n, "max_body_bytes", p.max_body_bytes);
  if (auto u = r.str(n, "public_url")) {
    p.public_url = *u;
    while (!p.public_url.empty() && p.public_url.back() == '/') p.public_url.pop_back();
    if (p.public_url.rfind("http://", 0) != 0 && p.public_url.rfind("https://", 0) != 0)
      r.fail(n["public_url"], "public_url must start with http:// or https://");
  }
  if (auto a = r.str(n, "ack")) {
    if (*a == "durable")
      p.ack = PipelineConfig::Ack::Durable;
    else if (*a == "delivered")
      p.ack = PipelineConfig::Ack::Delivered;
    else
      r.fail(n["ack"], "ack must be durable or delivered");
  }
  r.duration(n, "ack_timeout", p.ack_timeout_ms);
  p.allow_ips = r.strings(n, "allow_ips");
  auto rl = n["rate_limit"];
  if (rl.IsDefined() && r.isMap(rl, "rate_limit")) {
    r.allowOnly(rl, {"per_second", "burst"}, "rate_limit");
    r.number(rl, "per_second", p.rate_limit.per_second);
    r.number(rl, "burst", p.rate_limit.burst);
    if (p.rate_limit.burst <= 0) p.rate_limit.burst = std::max(1.0, p.rate_limit.per_second);
    if (p.rate_limit.burst < 1)
      r.fail(rl["burst"], "burst must be at least 1 (or no request could ever pass)");
  }
  c.pipelines.push_back(std::move(p));
}

}  // namespace

bool isJournalOwnTable(const std::string& table) {
  static const std::set<std::string> own = {"events", "claim_log", "cursors", "dead_letters"};
  const std::string t = lower(table);
  return own.count(t) || t.rfind("sqlite_", 0) == 0;
}

namespace {

void crossCheck(Reader& r, Config& c, const YAML::Node& root) {
  // A body larger than the memory budget for bodies could never be read.
  const int64_t budget = c.server.max_buffered_bytes;
  auto server = root["server"];
  if (c.server.max_body_bytes > budget)
    r.fail(server["max_buffered_bytes"].IsDefined() ? server["max_buffered_bytes"]
                                                    : server["max_body_bytes"],
           "'max_buffered_bytes' (" + std::to_string(budget) +
               ") must be at least max_body_bytes (" + std::to_string(c.server.max_body_bytes) +
               ")");
  std::map<std::string, std::string> paths;
  std::set<std::string> tables;
  for (const auto& p : c.pipelines) {
    auto node = root["pipelines"][p.name];
    if (p.max_body_bytes > budget)
      r.fail(node["max_body_bytes"], "max_body_bytes (" + std::to_string(p.max_body_bytes) +
                                         ") exceeds server.max_buffered_bytes (" +
                                         std::to_string(budget) + ")");
    auto [it, fresh] = paths.emplace(p.path, p.name);
    if (!fresh)
      r.fail(node["path"].IsDefined() ? node["path"] : node,
             "path " + p.path + " is already used by pipeline '" + it->second + "'");
    if (!tables.insert(lower(p.table)).second)
      r.fail(node["table"].IsDefined() ? node["table"] : node,
             "table '" + p.table + "' is used by two pipelines");
    auto auth = node["auth"];
    auto secrets_node = auth.IsDefined() && auth.IsMap() ? auth["secrets"] : YAML::Node();
    size_t i = 0;
    for (const auto& s : p.secrets) {
      if (!c.secrets.count(s)) {
        YAML::Node at = secrets_node.IsSequence() && i < secrets_node.size()
                            ? secrets_node[i]
                            : (secrets_node.IsDefined() ? secrets_node : node);
        r.fail(at, "pipeline '" + p.name + "' refers to unknown secret '" + s + "'");
      }
      ++i;
    }
    i = 0;
    auto sinks_node = node["sinks"];
    bool in_journal = false;
    for (const auto& s : p.sinks) {
      YAML::Node at = sinks_node.IsSequence() && i < sinks_node.size()
                          ? sinks_node[i]
                          : (sinks_node.IsDefined() ? sinks_node : node);
      auto sink = c.sinks.find(s);
      if (sink == c.sinks.end())
        r.fail(at, "pipeline '" + p.name + "' refers to unknown sink '" + s + "'");
      else if (sink->second.type == kJournalSinkType && !in_journal) {
        in_journal = true;
        if (isJournalOwnTable(p.table))
          r.fail(node["table"].IsDefined() ? node["table"] : at,
                 "table '" + p.table + "' is a name the journal's database uses itself (sink '" +
                     s + "' is of type journal): choose another table");
        c.journal.tables.push_back({p.table, p.name, p.columns});
      }
      ++i;
    }
  }
}

LoadResult load(const YAML::Node& root, const std::string& file) {
  LoadResult result;
  Reader r(file, result.errors);
  r.checkDuplicates(root);
  Config c;
  c.file = file;
  auto slash = file.find_last_of('/');
  c.base_dir = slash == std::string::npos ? "." : file.substr(0, slash);
  if (!root.IsMap()) {
    r.fail(root, "the config must be a mapping with server, plugins, secrets, sinks, pipelines");
    return result;
  }
  r.allowOnly(root, {"server", "journal", "plugins", "secrets", "sinks", "pipelines", "log_level"},
              "the config");
  if (root["server"].IsDefined()) readServer(r, root["server"], c.server);
  if (root["journal"].IsDefined()) readJournal(r, root["journal"], c.journal);
  if (auto plugins = root["plugins"]; plugins.IsDefined() && r.isMap(plugins, "plugins")) {
    r.allowOnly(plugins, {"path"}, "plugins");
    if (plugins["path"].IsDefined()) c.plugin_paths = r.strings(plugins, "path");
  }
  if (auto lvl = r.str(root, "log_level")) {
    c.log_level = *lvl;
    if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
        c.log_level != "error")
      r.fail(root["log_level"], "log_level must be debug, info, warn or error");
  }
  if (root["secrets"].IsDefined()) readSecrets(r, root["secrets"], c);
  if (root["sinks"].IsDefined()) readSinks(r, root["sinks"], c);
  auto pipelines = root["pipelines"];
  if (!pipelines.IsDefined() || !pipelines.IsMap() || pipelines.size() == 0) {
    r.fail(pipelines.IsDefined() ? pipelines : root,
           "the config needs at least one pipeline under 'pipelines'");
  } else {
    for (const auto& kv : pipelines) readPipeline(r, kv.first.Scalar(), kv.first, kv.second, c);
  }
  crossCheck(r, c, root);
  result.config = std::move(c);
  return result;
}

}  // namespace

LoadResult loadConfigText(const std::string& text, const std::string& file_label) {
  try {
    YAML::Node root = YAML::Load(text);
    return load(root, file_label);
  } catch (const YAML::Exception& e) {
    LoadResult r;
    Position p{file_label, e.mark.is_null() ? 0 : e.mark.line + 1,
               e.mark.is_null() ? 0 : e.mark.column + 1};
    r.errors.push_back({p, "YAML syntax error: " + e.msg});
    return r;
  }
}

LoadResult loadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({{path, 0, 0}, "cannot read the config file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return loadConfigText(ss.str(), path);
}

namespace {

std::optional<std::string> readSecret(const SecretConfig& s, std::string& error) {
  switch (s.source) {
    case SecretConfig::Source::Value:
      return s.argument;
    case SecretConfig::Source::Env: {
      const char* v = std::getenv(s.argument.c_str());
      if (!v) {
        error = "environment variable " + s.argument + " is not set";
        return std::nullopt;
      }
      return std::string(v);
    }
    case SecretConfig::Source::File: {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(s.argument, ec)) {
        error = "secret file " + s.argument + " is not a readable regular file";
        return std::nullopt;
      }
      std::ifstream in(s.argument, std::ios::binary);
      if (!in) {
        error = "cannot read secret file " + s.argument;
        return std::nullopt;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      std::string v = ss.str();
      // A trailing newline from `echo secret > file` is never part of the secret.
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> resolveSecret(const SecretConfig& s, std::string& error) {
  auto v = readSecret(s, error);
  // An empty key makes every HMAC forgeable by anyone: never run with one.
  if (v && v->empty()) {
    error = "the secret is empty";
    return std::nullopt;
  }
  return v;
}

}  // namespace inlet::config
