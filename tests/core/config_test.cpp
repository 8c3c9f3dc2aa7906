// The config loader: a complete config reads into the right structs, and every mistake is
// reported as "file:line:col: message" pointing at the offending node (fail closed).
#include "config/config.h"

#include <gtest/gtest.h>
#include <inlet/testing/server.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <vector>

using inlet::config::ColumnConfig;
using inlet::config::Config;
using inlet::config::DedupConfig;
using inlet::config::Error;
using inlet::config::loadConfigText;
using inlet::config::LoadResult;
using inlet::config::PipelineConfig;
using inlet::config::resolveSecret;
using inlet::config::SecretConfig;
using inlet::testing::TempDir;
using inlet::testing::writeFile;

namespace {

const char kFile[] = "inlet.yaml";

// 1-based line and column of the `occurrence`-th (0-based) appearance of `needle` in `text`,
// computed independently of yaml-cpp so the expected positions are ground truth.
struct At {
  int line = 0, column = 0;
};
At at(const std::string& text, const std::string& needle, int occurrence = 0) {
  size_t pos = std::string::npos, from = 0;
  for (int i = 0; i <= occurrence; ++i) {
    pos = text.find(needle, from);
    if (pos == std::string::npos) {
      ADD_FAILURE() << "needle not found: " << needle;
      return {};
    }
    from = pos + 1;
  }
  At a{1, 1};
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++a.line;
      a.column = 1;
    } else {
      ++a.column;
    }
  }
  return a;
}

// Position of whatever follows `needle` (e.g. the value after "key: ").
At atValue(const std::string& text, const std::string& needle, int occurrence = 0) {
  At a = at(text, needle, occurrence);
  a.column += static_cast<int>(needle.size());
  return a;
}

std::string prefix(const At& a) {
  return std::string(kFile) + ":" + std::to_string(a.line) + ":" + std::to_string(a.column) + ": ";
}

std::string dump(const LoadResult& r) {
  std::string s;
  for (const auto& e : r.errors) s += "  " + e.str() + "\n";
  return s;
}

// Finds the error whose message contains `fragment` and checks its full rendering.
void expectError(const LoadResult& r, const std::string& fragment, const At& where) {
  auto it = std::find_if(r.errors.begin(), r.errors.end(), [&](const Error& e) {
    return e.message.find(fragment) != std::string::npos;
  });
  ASSERT_NE(it, r.errors.end()) << "no error containing '" << fragment << "'; got:\n" << dump(r);
  EXPECT_EQ(it->where.file, kFile);
  EXPECT_EQ(it->where.line, where.line) << it->str();
  EXPECT_EQ(it->where.column, where.column) << it->str();
  // The rendered form is exactly file:line:col: message.
  EXPECT_EQ(it->str(), prefix(where) + it->message);
  EXPECT_FALSE(r.ok());
}

// A small valid config; tests splice one mistake into it.
std::string minimal(const std::string& pipeline_extra = "", const std::string& top_extra = "") {
  return "secrets:\n"
         "  s1: { value: abc }\n"
         "sinks:\n"
         "  local: { type: sqlite, path: x.db }\n" +
         top_extra +
         "pipelines:\n"
         "  p1:\n"
         "    auth: { provider: github, secrets: [s1] }\n"
         "    sinks: [local]\n" +
         pipeline_extra;
}

const char kFull[] = R"yaml(server:
  listen: 0.0.0.0:9090
  max_body_bytes: 4MiB
  threads: 16
  max_connections: 100
  max_header_bytes: 16KiB
  max_headers: 50
  read_timeout: 5s
  keepalive_timeout: 1m
  max_keepalive_requests: 50
  max_inflight: 2000
  max_buffered_bytes: 1GiB
  shutdown_grace: 3s
  background_nice: 7
journal:
  path: /var/lib/inlet/journal.db
  retention: 48h
  max_batch: 256
plugins:
  path: [build/plugins, /opt/inlet/plugins]
log_level: debug
secrets:
  gh: { env: GITHUB_WEBHOOK_SECRET }
  gh_old: { file: /etc/inlet/gh_old.secret }
  demo: { value: "It's a Secret to Everybody" }
sinks:
  local: { type: sqlite, path: data/inlet.db }
  pg:
    type: postgres
    dsn: postgresql://localhost/inlet
    batch_size: 50
    batch_wait: 250ms
    retry: { max_attempts: 3, initial_backoff: 250ms, max_backoff: 1m }
pipelines:
  github:
    path: /webhook/github
    auth: { provider: github, secrets: [gh, gh_old], tolerance: 300s }
    dedup: { key: auto, window: 24h }
    sinks: [local, pg]
    table: github_events
    ack: delivered
    ack_timeout: 2s
    public_url: https://hooks.example.com/
    allow_ips: [140.82.112.0/20, "2a0a:a440::/29"]
    rate_limit: { per_second: 50, burst: 100 }
    columns:
      - { name: action, type: text, pointer: /action }
      - { name: repo_id, type: integer, pointer: /repository/id, required: true }
      - { name: score, type: real }
      - { name: private, type: boolean, pointer: /repository/private }
      - { name: pushed_at, type: timestamp, pointer: /repository/pushed_at }
      - { name: sender, type: json, pointer: /sender }
      - { name: hook_id, type: integer, header: X-GitHub-Hook-ID }
  segment:
    path: /webhook/segment
    methods: [post, put]
    auth: { provider: none }
    dedup: { key: "header:X-Request-Id", window: 1h }
    decode: json
    split: array
    sinks: local
    max_body_bytes: 64KiB
  logs:
    auth: { provider: none }
    dedup: { key: "json:/event/id" }
    split: jsonl
    sinks: [local]
  forms:
    auth: { provider: none }
    decode: form
    dedup: { key: none }
    sinks: [local]
  blobs:
    auth: { provider: none, secrets: demo }
    decode: raw
    sinks: [local]
)yaml";

TEST(ConfigLoad, FullConfigParsesIntoStructs) {
  auto r = loadConfigText(kFull, kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.file, kFile);

  EXPECT_EQ(c.server.listen, "0.0.0.0:9090");
  EXPECT_EQ(c.server.max_body_bytes, 4 * 1024 * 1024);
  EXPECT_EQ(c.server.threads, 16);
  EXPECT_EQ(c.server.max_connections, 100);
  EXPECT_EQ(c.server.max_header_bytes, 16 * 1024);
  EXPECT_EQ(c.server.max_headers, 50);
  EXPECT_EQ(c.server.read_timeout_ms, 5000);
  EXPECT_EQ(c.server.keepalive_timeout_ms, 60000);
  EXPECT_EQ(c.server.max_keepalive_requests, 50);
  EXPECT_EQ(c.server.max_inflight, 2000);
  EXPECT_EQ(c.server.max_buffered_bytes, 1024LL * 1024 * 1024);
  EXPECT_EQ(c.server.shutdown_grace_ms, 3000);
  EXPECT_EQ(c.server.background_nice, 7);

  EXPECT_EQ(c.journal.path, "/var/lib/inlet/journal.db");
  EXPECT_EQ(c.journal.retention_ms, 48LL * 3600 * 1000);
  EXPECT_EQ(c.journal.max_batch, 256);
  EXPECT_EQ(c.plugin_paths, (std::vector<std::string>{"build/plugins", "/opt/inlet/plugins"}));
  EXPECT_EQ(c.log_level, "debug");

  ASSERT_EQ(c.secrets.size(), 3u);
  EXPECT_EQ(c.secrets.at("gh").source, SecretConfig::Source::Env);
  EXPECT_EQ(c.secrets.at("gh").argument, "GITHUB_WEBHOOK_SECRET");
  EXPECT_EQ(c.secrets.at("gh").where.line, at(kFull, "gh:").line);
  EXPECT_EQ(c.secrets.at("gh_old").source, SecretConfig::Source::File);
  EXPECT_EQ(c.secrets.at("gh_old").argument, "/etc/inlet/gh_old.secret");
  EXPECT_EQ(c.secrets.at("demo").source, SecretConfig::Source::Value);
  EXPECT_EQ(c.secrets.at("demo").argument, "It's a Secret to Everybody");

  ASSERT_EQ(c.sinks.size(), 2u);
  const auto& local = c.sinks.at("local");
  EXPECT_EQ(local.type, "sqlite");
  EXPECT_EQ(local.batch_size, 500);         // default
  EXPECT_EQ(local.batch_wait_ms, 10);       // default
  EXPECT_EQ(local.retry.max_attempts, 12);  // default
  EXPECT_EQ(local.options["path"].as<std::string>(), "data/inlet.db");
  EXPECT_FALSE(local.options["type"].IsDefined());  // the host's own key is not an option
  const auto& pg = c.sinks.at("pg");
  EXPECT_EQ(pg.type, "postgres");
  EXPECT_EQ(pg.batch_size, 50);
  EXPECT_EQ(pg.retry.max_attempts, 3);
  EXPECT_EQ(pg.retry.initial_backoff_ms, 250);
  EXPECT_EQ(pg.retry.max_backoff_ms, 60000);
  EXPECT_EQ(pg.options["dsn"].as<std::string>(), "postgresql://localhost/inlet");
  EXPECT_FALSE(pg.options["retry"].IsDefined());
  EXPECT_FALSE(pg.options["batch_size"].IsDefined());
  EXPECT_EQ(pg.batch_wait_ms, 250);
  EXPECT_FALSE(pg.options["batch_wait"].IsDefined());
  EXPECT_EQ(pg.where.line, at(kFull, "  pg:").line);

  ASSERT_EQ(c.pipelines.size(), 5u);  // file order
  const PipelineConfig& gh = c.pipelines[0];
  EXPECT_EQ(gh.name, "github");
  EXPECT_EQ(gh.path, "/webhook/github");
  EXPECT_EQ(gh.methods, std::vector<std::string>{"POST"});
  EXPECT_EQ(gh.provider, "github");
  EXPECT_EQ(gh.secrets, (std::vector<std::string>{"gh", "gh_old"}));
  EXPECT_EQ(gh.auth_options["tolerance"].as<std::string>(), "300s");
  EXPECT_FALSE(gh.auth_options["provider"].IsDefined());
  EXPECT_FALSE(gh.auth_options["secrets"].IsDefined());
  EXPECT_EQ(gh.dedup.kind, DedupConfig::Kind::Auto);
  EXPECT_EQ(gh.dedup.window_ms, 24LL * 3600 * 1000);
  EXPECT_EQ(gh.sinks, (std::vector<std::string>{"local", "pg"}));
  EXPECT_EQ(gh.table, "github_events");
  EXPECT_EQ(gh.decode, PipelineConfig::Decode::Json);
  EXPECT_EQ(gh.split, PipelineConfig::Split::None);
  EXPECT_EQ(gh.ack, PipelineConfig::Ack::Delivered);
  EXPECT_EQ(gh.ack_timeout_ms, 2000);
  EXPECT_EQ(gh.public_url, "https://hooks.example.com");  // trailing slash dropped
  EXPECT_EQ(gh.allow_ips, (std::vector<std::string>{"140.82.112.0/20", "2a0a:a440::/29"}));
  EXPECT_DOUBLE_EQ(gh.rate_limit.per_second, 50);
  EXPECT_DOUBLE_EQ(gh.rate_limit.burst, 100);
  EXPECT_EQ(gh.max_body_bytes, 0);
  EXPECT_EQ(gh.where.line, at(kFull, "  github:").line);

  ASSERT_EQ(gh.columns.size(), 7u);
  using T = ColumnConfig::Type;
  EXPECT_EQ(gh.columns[0].name, "action");
  EXPECT_EQ(gh.columns[0].type, T::Text);
  EXPECT_EQ(gh.columns[0].pointer, "/action");
  EXPECT_FALSE(gh.columns[0].required);
  EXPECT_EQ(gh.columns[1].type, T::Integer);
  EXPECT_EQ(gh.columns[1].pointer, "/repository/id");
  EXPECT_TRUE(gh.columns[1].required);
  EXPECT_EQ(gh.columns[2].type, T::Real);
  EXPECT_EQ(gh.columns[2].pointer, "/score");  // default: top-level key named like the column
  EXPECT_EQ(gh.columns[3].type, T::Boolean);
  EXPECT_EQ(gh.columns[4].type, T::Timestamp);
  EXPECT_EQ(gh.columns[5].type, T::Json);
  EXPECT_EQ(gh.columns[6].header, "x-github-hook-id");  // header names are lower-cased
  EXPECT_EQ(gh.columns[6].pointer, "");

  const PipelineConfig& seg = c.pipelines[1];
  EXPECT_EQ(seg.name, "segment");
  EXPECT_EQ(seg.methods, (std::vector<std::string>{"POST", "PUT"}));
  EXPECT_EQ(seg.provider, "none");
  EXPECT_TRUE(seg.secrets.empty());
  EXPECT_EQ(seg.dedup.kind, DedupConfig::Kind::Header);
  EXPECT_EQ(seg.dedup.argument, "x-request-id");
  EXPECT_EQ(seg.dedup.window_ms, 3600 * 1000);
  EXPECT_EQ(seg.split, PipelineConfig::Split::Array);
  EXPECT_EQ(seg.sinks, std::vector<std::string>{"local"});  // a scalar is a one-element list
  EXPECT_EQ(seg.max_body_bytes, 64 * 1024);
  EXPECT_EQ(seg.table, "segment");  // defaults to the pipeline name

  const PipelineConfig& logs = c.pipelines[2];
  EXPECT_EQ(logs.path, "/webhook/logs");  // default path
  EXPECT_EQ(logs.dedup.kind, DedupConfig::Kind::Json);
  EXPECT_EQ(logs.dedup.argument, "/event/id");
  EXPECT_EQ(logs.dedup.window_ms, 72LL * 3600 * 1000);  // default window
  EXPECT_EQ(logs.split, PipelineConfig::Split::Jsonl);
  EXPECT_EQ(logs.ack, PipelineConfig::Ack::Durable);

  const PipelineConfig& forms = c.pipelines[3];
  EXPECT_EQ(forms.decode, PipelineConfig::Decode::Form);
  EXPECT_EQ(forms.dedup.kind, DedupConfig::Kind::None);

  const PipelineConfig& blobs = c.pipelines[4];
  EXPECT_EQ(blobs.decode, PipelineConfig::Decode::Raw);
  EXPECT_EQ(blobs.secrets, std::vector<std::string>{"demo"});
  EXPECT_EQ(blobs.dedup.kind, DedupConfig::Kind::None);  // no dedup section: no dedup
}

TEST(ConfigLoad, DefaultsWhenSectionsAreAbsent) {
  auto r = loadConfigText(minimal(), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.threads, 0);  // one event loop per core
  EXPECT_EQ(c.server.max_connections, 10000);
  EXPECT_EQ(c.server.max_header_bytes, 32 * 1024);
  EXPECT_EQ(c.server.background_nice, 5);
  EXPECT_EQ(c.server.max_buffered_bytes, 256LL * 1024 * 1024);
  EXPECT_EQ(c.journal.path, "data/journal.db");
  EXPECT_EQ(c.plugin_paths, std::vector<std::string>{"build/plugins"});
  EXPECT_EQ(c.log_level, "info");
}

TEST(ConfigLoad, RateLimitBurstDefaultsToRate) {
  auto r = loadConfigText(minimal("    rate_limit: { per_second: 20 }\n"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_DOUBLE_EQ(r.config->pipelines[0].rate_limit.burst, 20);
  r = loadConfigText(minimal("    rate_limit: { per_second: 0.5 }\n"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_DOUBLE_EQ(r.config->pipelines[0].rate_limit.burst, 1);
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  std::string text = minimal("", "sever:\n  listen: 1.2.3.4:5\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "unknown key 'sever' in the config", at(text, "sever:"));
}

TEST(ConfigErrors, UnknownPipelineKey) {
  std::string text = minimal("    tabel: x\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "unknown key 'tabel' in pipeline 'p1'", at(text, "tabel"));
  // The message lists what is allowed so the typo is easy to fix.
  auto it = std::find_if(r.errors.begin(), r.errors.end(), [](const Error& e) {
    return e.message.find("tabel") != std::string::npos;
  });
  ASSERT_NE(it, r.errors.end());
  EXPECT_NE(it->message.find("table"), std::string::npos);
}

TEST(ConfigErrors, UnknownKeysInNestedSections) {
  std::string text =
      minimal("    dedup: { key: auto, windw: 1h }\n    rate_limit: { per_sec: 1 }\n",
              "journal: { pth: x }\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "unknown key 'windw' in dedup", at(text, "windw"));
  expectError(r, "unknown key 'per_sec' in rate_limit", at(text, "per_sec"));
  expectError(r, "unknown key 'pth' in journal", at(text, "pth"));
}

TEST(ConfigErrors, DuplicateKeyIsReported) {
  // yaml-cpp keeps the first `path` silently; the loader must refuse the file.
  std::string text = minimal("    path: /a\n    path: /b\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "duplicate key 'path'", at(text, "path: /b"));
}

TEST(ConfigErrors, DuplicateKeyInFlowMapAndDuplicatePipeline) {
  std::string text = minimal(
      "  p2:\n    auth: { provider: none, provider: github }\n"
      "  p2:\n    auth: { provider: none }\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "duplicate key 'provider'", at(text, "provider: github", 1));
  expectError(r, "duplicate key 'p2'", at(text, "p2:", 1));
}

TEST(ConfigErrors, WrongType) {
  std::string text = minimal("", "server:\n  threads: \"abc\"\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'threads' must be an integer", at(text, "\"abc\""));
}

TEST(ConfigErrors, IntegerOutOfRange) {
  std::string text = minimal("", "server:\n  threads: 1000\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'threads' must be between 0 and 256", atValue(text, "threads: "));
}

TEST(ConfigErrors, BodyLimitsBeyondTheBodyBudget) {
  // A body larger than the memory budget for bodies could never be read.
  std::string text = minimal("", "server:\n  max_buffered_bytes: 1MiB\n");
  expectError(loadConfigText(text, kFile),
              "'max_buffered_bytes' (1048576) must be at least max_body_bytes (2097152)",
              atValue(text, "max_buffered_bytes: "));
  text = minimal("    max_body_bytes: 300MiB\n");
  expectError(loadConfigText(text, kFile),
              "max_body_bytes (314572800) exceeds server.max_buffered_bytes (268435456)",
              atValue(text, "max_body_bytes: "));
  text = minimal("    max_body_bytes: 1MiB\n",
                 "server:\n  max_body_bytes: 512KiB\n  max_buffered_bytes: 1MiB\n");
  EXPECT_TRUE(loadConfigText(text, kFile).ok());  // equal is enough
}

TEST(ConfigErrors, BackgroundNiceBeyondTheNiceRange) {
  std::string text = minimal("", "server:\n  background_nice: 20\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'background_nice' must be between 0 and 19", atValue(text, "background_nice: "));
}

TEST(ConfigErrors, BatchWaitBeyondTenSeconds) {
  std::string text = minimal();
  text.replace(text.find("path: x.db }"), 12, "path: x.db, batch_wait: 11s }");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'batch_wait' must be at most 10s", atValue(text, "batch_wait: "));
}

TEST(ConfigErrors, SectionThatIsNotAMapping) {
  std::string text = minimal("", "server: [1, 2]\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "server must be a mapping", at(text, "[1, 2]"));
}

TEST(ConfigErrors, BadDuration) {
  std::string text = minimal("    dedup: { key: auto, window: 3 fortnights }\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'window' must be a duration", at(text, "3 fortnights"));
}

TEST(ConfigErrors, BadSize) {
  std::string text = minimal("    max_body_bytes: 10MB\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "'max_body_bytes' must be a positive size", at(text, "10MB"));
}

TEST(ConfigErrors, DanglingSecretReference) {
  std::string text = minimal("  p2:\n    auth: { provider: github, secrets: [s1, nope] }\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "pipeline 'p2' refers to unknown secret 'nope'", at(text, "nope"));
  EXPECT_EQ(r.errors.size(), 1u) << dump(r);
}

TEST(ConfigErrors, DanglingSinkReference) {
  std::string text =
      minimal("  p2:\n    auth: { provider: none }\n    sinks: [local, warehouse]\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "pipeline 'p2' refers to unknown sink 'warehouse'", at(text, "warehouse"));
}

TEST(ConfigErrors, DanglingScalarSinkReference) {
  std::string text = minimal("  p2:\n    auth: { provider: none }\n    sinks: warehouse\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "refers to unknown sink 'warehouse'", at(text, "warehouse"));
}

TEST(ConfigErrors, TwoPipelinesOnOnePath) {
  std::string text =
      minimal("    path: /hook\n  p2:\n    auth: { provider: none }\n    path: /hook\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "path /hook is already used by pipeline 'p1'", at(text, "/hook", 1));
  EXPECT_EQ(r.errors.size(), 1u) << dump(r);
}

TEST(ConfigErrors, DefaultPathCollidesWithExplicitPath) {
  std::string text = minimal("  p2:\n    auth: { provider: none }\n    path: /webhook/p1\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "path /webhook/p1 is already used by pipeline 'p1'", at(text, "/webhook/p1"));
}

TEST(ConfigErrors, TwoPipelinesOnOneTable) {
  std::string text = minimal("    table: t\n  p2:\n    auth: { provider: none }\n    table: T\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "table 'T' is used by two pipelines", atValue(text, "table: ", 1));
}

TEST(ConfigErrors, MissingPipelines) {
  std::string text = "server:\n  listen: 127.0.0.1:1\n";
  auto r = loadConfigText(text, kFile);
  expectError(r, "at least one pipeline", At{1, 1});
}

TEST(ConfigErrors, EmptyPipelines) {
  std::string text = "server:\n  listen: 127.0.0.1:1\npipelines: {}\n";
  auto r = loadConfigText(text, kFile);
  expectError(r, "at least one pipeline", at(text, "{}"));
}

TEST(ConfigErrors, PipelineWithoutAuth) {
  std::string text = minimal("  p2:\n    sinks: [local]\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "pipeline 'p2' needs an 'auth' section", at(text, "sinks: [local]", 1));
}

TEST(ConfigErrors, YamlSyntaxError) {
  std::string text = "server:\n  listen: 127.0.0.1:1\npipelines:\n  p1: { auth: [1, 2\n";
  auto r = loadConfigText(text, kFile);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_FALSE(r.config.has_value());
  EXPECT_NE(r.errors[0].message.find("YAML syntax error"), std::string::npos) << r.errors[0].str();
  EXPECT_EQ(r.errors[0].where.file, kFile);
  // yaml-cpp notices the unterminated flow sequence at the end of the input (line 5, col 1).
  EXPECT_EQ(r.errors[0].where.line, 5) << r.errors[0].str();
  EXPECT_EQ(r.errors[0].where.column, 1) << r.errors[0].str();
}

TEST(ConfigErrors, YamlSyntaxErrorBadIndentation) {
  std::string text = "pipelines:\n  p1:\n    path: /a\n   bad: 1\n";
  auto r = loadConfigText(text, kFile);
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_NE(r.errors[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(r.errors[0].where.line, 4) << r.errors[0].str();
  EXPECT_GE(r.errors[0].where.column, 1);
}

TEST(ConfigErrors, NotAMapping) {
  auto r = loadConfigText("- a\n- b\n", kFile);
  expectError(r, "the config must be a mapping", At{1, 1});
  r = loadConfigText("", kFile);
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty());
}

TEST(ConfigErrors, BadDedupKey) {
  for (const char* bad : {"bogus", "header:", "json:", "json:event.id", "Auto"}) {
    std::string text = minimal(std::string("    dedup: { key: \"") + bad + "\" }\n");
    auto r = loadConfigText(text, kFile);
    SCOPED_TRACE(bad);
    expectError(r, "dedup key must be auto, none, header:<name> or json:/<pointer>",
                at(text, std::string("\"") + bad + "\""));
  }
}

TEST(ConfigErrors, ReservedColumnName) {
  for (const char* name : {"id", "data", "headers", "SEQ", "Received_At", "body_raw"}) {
    std::string text =
        minimal(std::string("    columns:\n      - { name: ") + name + ", type: text }\n");
    auto r = loadConfigText(text, kFile);
    SCOPED_TRACE(name);
    expectError(r, std::string("column name '") + name + "' is reserved",
                atValue(text, "{ name: "));
  }
}

TEST(ConfigErrors, ColumnMistakes) {
  std::string text = minimal(
      "    columns:\n"
      "      - { name: a, type: varchar }\n"
      "      - { name: b, pointer: /b, header: x-b }\n"
      "      - { name: c, pointer: c }\n"
      "      - { name: A }\n"
      "      - { name: 1bad }\n"
      "      - { name: d, required: yes }\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "column type must be text, integer", at(text, "varchar"));
  expectError(r, "either pointer or header, not both", at(text, "{ name: b"));
  expectError(r, "pointer must be a JSON pointer", atValue(text, "{ name: c, pointer: "));
  expectError(r, "duplicate column 'A'", at(text, "A }"));
  expectError(r, "column name must be an identifier", at(text, "1bad"));
  expectError(r, "'required' must be true or false", at(text, "yes"));
}

TEST(ConfigErrors, EnumValues) {
  std::string text = minimal(
      "    decode: xml\n    split: csv\n    ack: never\n    public_url: ftp://x\n    path: hook\n",
      "log_level: loud\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "decode must be json, raw or form", at(text, "xml"));
  expectError(r, "split must be none, jsonl or array", at(text, "csv"));
  expectError(r, "ack must be durable or delivered", at(text, "never"));
  expectError(r, "public_url must start with http:// or https://", at(text, "ftp://x"));
  expectError(r, "path must start with '/'", at(text, "hook\n"));
  expectError(r, "log_level must be debug, info, warn or error", at(text, "loud"));
}

TEST(ConfigErrors, SecretNeedsExactlyOneSource) {
  std::string text = minimal("", "").replace(
      0, std::string("secrets:\n").size(), "secrets:\n  both: { env: A, value: b }\n  none: {}\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "secret 'both' needs exactly one of env, file, value", at(text, "{ env: A"));
  expectError(r, "secret 'none' needs exactly one of env, file, value", at(text, "{}"));
}

TEST(ConfigErrors, SplitWithFormDecode) {
  std::string text = minimal("    decode: form\n    split: jsonl\n");
  auto r = loadConfigText(text, kFile);
  expectError(r, "split needs decode: json", at(text, "jsonl"));
}

TEST(ConfigErrors, SinkWithoutType) {
  std::string text = minimal("", "").replace(minimal().find("{ type: sqlite, "),
                                             std::string("{ type: sqlite, ").size(), "{ ");
  auto r = loadConfigText(text, kFile);
  expectError(r, "missing required key 'type'", at(text, "{ path: x.db }"));
}

TEST(ConfigErrors, SeveralErrorsAreAllReported) {
  std::string text =
      "bogus: 1\n"
      "server:\n"
      "  threads: many\n"
      "  read_timeout: soon\n"
      "secrets:\n"
      "  s1: { value: abc }\n"
      "sinks:\n"
      "  local: { type: sqlite }\n"
      "pipelines:\n"
      "  p1:\n"
      "    auth: { provider: github, secrets: [s1, s9] }\n"
      "    sinks: [nowhere]\n"
      "    dedup: { key: maybe }\n"
      "    colour: blue\n"
      "    colour: red\n";
  auto r = loadConfigText(text, kFile);
  EXPECT_FALSE(r.ok());
  expectError(r, "unknown key 'bogus'", at(text, "bogus"));
  expectError(r, "'threads' must be an integer", at(text, "many"));
  expectError(r, "'read_timeout' must be a duration", at(text, "soon"));
  expectError(r, "unknown secret 's9'", at(text, "s9"));
  expectError(r, "unknown sink 'nowhere'", at(text, "nowhere"));
  expectError(r, "dedup key must be", at(text, "maybe"));
  expectError(r, "unknown key 'colour'", at(text, "colour"));
  expectError(r, "duplicate key 'colour'", at(text, "colour", 1));
  EXPECT_GE(r.errors.size(), 8u) << dump(r);
}

TEST(ConfigErrors, FileLabelIsUsed) {
  auto r = loadConfigText("pipelines: 3\n", "/etc/inlet/prod.yaml");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0].str().rfind("/etc/inlet/prod.yaml:1:12: ", 0), 0u) << r.errors[0].str();
}

TEST(ConfigFile, LoadFromDiskAndMissingFile) {
  TempDir dir;
  writeFile(dir.path() / "c.yaml", minimal());
  auto r = inlet::config::loadConfigFile(dir.str("c.yaml"));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->file, dir.str("c.yaml"));
  EXPECT_EQ(r.config->base_dir, dir.str());

  auto missing = inlet::config::loadConfigFile(dir.str("nope.yaml"));
  EXPECT_FALSE(missing.ok());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].where.file, dir.str("nope.yaml"));
}

// --- resolveSecret ---------------------------------------------------------------------------

SecretConfig secret(SecretConfig::Source source, std::string argument) {
  SecretConfig s;
  s.name = "s";
  s.source = source;
  s.argument = std::move(argument);
  return s;
}

TEST(ResolveSecret, Value) {
  std::string error;
  auto v = resolveSecret(secret(SecretConfig::Source::Value, "literal"), error);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, "literal");
}

TEST(ResolveSecret, EnvSetAndUnset) {
  const char* var = "INLET_CONFIG_TEST_SECRET_VAR";
  ::setenv(var, "env-secret-value", 1);
  std::string error;
  auto v = resolveSecret(secret(SecretConfig::Source::Env, var), error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(*v, "env-secret-value");

  ::unsetenv(var);
  error.clear();
  v = resolveSecret(secret(SecretConfig::Source::Env, var), error);
  EXPECT_FALSE(v);
  EXPECT_NE(error.find(var), std::string::npos) << error;  // names the variable
  EXPECT_EQ(error.find("env-secret-value"), std::string::npos);
}

TEST(ResolveSecret, FileWithTrailingNewlineStripped) {
  TempDir dir;
  writeFile(dir.path() / "lf", "s3cr3t\n");
  writeFile(dir.path() / "crlf", "s3cr3t\r\n");
  writeFile(dir.path() / "inner", "line1\nline2\n");
  std::string error;
  EXPECT_EQ(resolveSecret(secret(SecretConfig::Source::File, dir.str("lf")), error).value_or("?"),
            "s3cr3t");
  EXPECT_EQ(resolveSecret(secret(SecretConfig::Source::File, dir.str("crlf")), error).value_or("?"),
            "s3cr3t");
  // Only the trailing newline goes; inner bytes are part of the secret.
  EXPECT_EQ(
      resolveSecret(secret(SecretConfig::Source::File, dir.str("inner")), error).value_or("?"),
      "line1\nline2");
}

TEST(ResolveSecret, MissingFile) {
  TempDir dir;
  std::string error;
  auto v = resolveSecret(secret(SecretConfig::Source::File, dir.str("absent.secret")), error);
  EXPECT_FALSE(v);
  EXPECT_NE(error.find("absent.secret"), std::string::npos) << error;
}

TEST(ResolveSecret, ErrorNeverContainsTheValue) {
  // An unreadable source must not echo a value that is around; a readable one sets no error.
  const char* var = "INLET_CONFIG_TEST_SECRET_VAR2";
  ::setenv(var, "hunter2-top-secret", 1);
  std::string error;
  auto v = resolveSecret(secret(SecretConfig::Source::Env, var), error);
  ASSERT_TRUE(v);
  EXPECT_TRUE(error.empty()) << error;
  ::unsetenv(var);

  TempDir dir;
  writeFile(dir.path() / "ok", "hunter2-top-secret\n");
  error.clear();
  ASSERT_TRUE(resolveSecret(secret(SecretConfig::Source::File, dir.str("ok")), error));
  EXPECT_TRUE(error.empty()) << error;
  std::filesystem::permissions(dir.path() / "ok", std::filesystem::perms::none);
  error.clear();
  v = resolveSecret(secret(SecretConfig::Source::File, dir.str("ok")), error);
  if (!v) {  // root can still read it; otherwise it is an error that names only the path
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
    EXPECT_NE(error.find(dir.str("ok")), std::string::npos) << error;
  }
}

TEST(ResolveSecret, DirectoryIsNotASecretFile) {
  // A directory opens fine with std::ifstream on Linux but reads as nothing; it must not
  // resolve to an empty secret.
  TempDir dir;
  std::string error;
  auto v = resolveSecret(secret(SecretConfig::Source::File, dir.str()), error);
  if (v) {
    FAIL() << "resolveSecret(file: <directory>) returns an empty secret instead of an error";
  }
  EXPECT_FALSE(error.empty());
}

TEST(ResolveSecret, EmptySecretIsRefused) {
  // An empty HMAC key makes every signature forgeable by anyone; an unset-looking variable or an
  // empty file is a deployment mistake and must fail closed like a missing one.
  TempDir dir;
  writeFile(dir.path() / "empty", "");
  writeFile(dir.path() / "newline", "\n");
  const char* var = "INLET_CONFIG_TEST_EMPTY_SECRET";
  ::setenv(var, "", 1);
  std::string accepted;
  for (const auto& s : {secret(SecretConfig::Source::Env, var),
                        secret(SecretConfig::Source::File, dir.str("empty")),
                        secret(SecretConfig::Source::File, dir.str("newline"))}) {
    std::string error;
    if (auto v = resolveSecret(s, error)) accepted += " " + s.argument;
  }
  ::unsetenv(var);
  if (!accepted.empty()) {
    FAIL() << "resolveSecret resolves empty secrets instead of refusing them:" << accepted;
  }
}

}  // namespace

namespace {

std::string journalSinkConfig(const std::string& sink = "{ type: journal }",
                              const std::string& pipeline_extra = "") {
  return "secrets:\n"
         "  s1: { value: abc }\n"
         "sinks:\n"
         "  local: " +
         sink +
         "\n"
         "  copy: { type: sqlite, path: x.db }\n"
         "pipelines:\n"
         "  p1:\n"
         "    auth: { provider: github, secrets: [s1] }\n"
         "    sinks: [local, copy, local]\n"
         "    columns: [{ name: action, type: text }]\n" +
         pipeline_extra +
         "  p2:\n"
         "    path: /p2\n"
         "    auth: { provider: github, secrets: [s1] }\n"
         "    sinks: [copy]\n";
}

}  // namespace

TEST(ConfigLoad, ASinkOfTypeJournalServesEachOfItsPipelinesTablesFromTheJournal) {
  auto r = loadConfigText(journalSinkConfig("{ type: journal }", "    table: p1_events\n"), kFile);
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& tables = r.config->journal.tables;
  ASSERT_EQ(tables.size(), 1u);  // p1 once, although it lists the sink twice; p2 not at all
  EXPECT_EQ(tables[0].table, "p1_events");
  EXPECT_EQ(tables[0].pipeline, "p1");
  ASSERT_EQ(tables[0].columns.size(), 1u);
  EXPECT_EQ(tables[0].columns[0].name, "action");
  EXPECT_EQ(r.config->sinks.at("local").type, "journal");
}

TEST(ConfigErrors, ASinkOfTypeJournalTakesNoOptions) {
  for (std::string key : {"path: x.db", "batch_size: 10", "retry: { max_attempts: 2 }"}) {
    SCOPED_TRACE(key);
    std::string text = journalSinkConfig("{ type: journal, " + key + " }");
    auto r = loadConfigText(text, kFile);
    expectError(r,
                "unknown key '" + key.substr(0, key.find(':')) +
                    "' in sink 'local' (type journal) (allowed: type)",
                at(text, key));
  }
}

TEST(ConfigErrors, AJournalTableCannotTakeANameOfTheJournalsOwnTables) {
  for (std::string name : {"events", "Claim_Log", "cursors", "dead_letters", "sqlite_x"}) {
    SCOPED_TRACE(name);
    std::string text = journalSinkConfig("{ type: journal }", "    table: " + name + "\n");
    auto r = loadConfigText(text, kFile);
    expectError(r,
                "table '" + name +
                    "' is a name the journal's database uses itself (sink 'local' is of type "
                    "journal): choose another table",
                atValue(text, "table: "));
  }
  // Any name is fine for a sink of another type.
  std::string text = journalSinkConfig("{ type: journal }", "    table: events\n");
  text.replace(text.find("[local, copy, local]"), 20, "[copy]");
  EXPECT_TRUE(loadConfigText(text, kFile).ok());
}
