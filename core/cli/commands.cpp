#include "cli/commands.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeParser.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

#include "config/config.h"
#include "delivery/delivery.h"
#include "journal/journal.h"
#include "pipeline/runtime.h"
#include "server/server.h"
#include "util/ids.h"
#include "util/log.h"

#if __has_include("cli/import_sql.h")
#include "cli/import_sql.h"
#define INLET_HAVE_IMPORT_SQL 1
#endif

namespace inlet::cli {

namespace {

const char* kDefaultConfig = "configs/inlet.yaml";

// Minimal flag parser: --name value, -c value, --flag.
struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> positional;
  std::vector<std::string> unknown;

  Args(const std::vector<std::string>& args, std::initializer_list<const char*> with_value,
       std::initializer_list<const char*> flags) {
    std::vector<std::string> wv(with_value.begin(), with_value.end()),
        fl(flags.begin(), flags.end());
    for (size_t i = 0; i < args.size(); ++i) {
      std::string a = args[i];
      if (a == "-c") a = "--config";
      auto eq = a.find('=');
      std::string name = a.substr(0, eq);
      if (std::find(wv.begin(), wv.end(), name) != wv.end()) {
        if (eq != std::string::npos)
          values[name] = a.substr(eq + 1);
        else if (i + 1 < args.size())
          values[name] = args[++i];
        else
          unknown.push_back(a + " (needs a value)");
      } else if (std::find(fl.begin(), fl.end(), a) != fl.end()) {
        values[a] = "1";
      } else if (!a.empty() && a[0] == '-') {
        unknown.push_back(a);
      } else {
        positional.push_back(a);
      }
    }
  }
  std::optional<std::string> get(const std::string& k) const {
    auto it = values.find(k);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  bool has(const std::string& k) const { return values.count(k) > 0; }
  bool bad(const char* cmd) const {
    for (const auto& u : unknown)
      std::cerr << "inlet " << cmd << ": unknown or incomplete option " << u << "\n";
    return !unknown.empty();
  }
};

std::optional<config::Config> loadOrReport(const std::string& path) {
  auto loaded = config::loadConfigFile(path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::cerr << e.str() << "\n";
    return std::nullopt;
  }
  return std::move(*loaded.config);
}

void setLogLevel(const std::string& level) {
  if (level == "debug")
    log::setLevel(log::Level::Debug);
  else if (level == "warn")
    log::setLevel(log::Level::Warn);
  else if (level == "error")
    log::setLevel(log::Level::Error);
  else
    log::setLevel(log::Level::Info);
}

// Parses "2026-11-29T10:00:00Z" or Unix seconds.
std::optional<int64_t> parseTimeMs(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos)
    return std::stoll(s) * 1000;
  Poco::DateTime dt;
  int tzd = 0;
  if (Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, s, dt, tzd) ||
      Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT, s, dt, tzd)) {
    dt.makeUTC(tzd);
    return dt.timestamp().epochMicroseconds() / 1000;
  }
  return std::nullopt;
}

}  // namespace

int usage(int code) {
  (code == 0 ? std::cout : std::cerr) <<
      R"(usage: inlet <command> [options]

  serve      [-c FILE]   run the server (default config: configs/inlet.yaml)
  check      [-c FILE]   validate the config, load plugins, resolve secrets
  plugins    [-c FILE]   list discovered plugins (kind, name, version, ABI, file)
  verify     -c FILE --pipeline NAME --request FILE [--now UNIX_SECONDS]
                         run a pipeline's verification on a captured raw HTTP/1.1 request
  replay     -c FILE --sink NAME [--pipeline P] [--since T] [--until T] [--id ID] [--dead-letters]
                         re-deliver journaled events to a sink (T: ISO-8601 or Unix seconds)
  import-sql FILE.sql [--with-secret-values]
                         turn RisingWave webhook tables into Inlet pipelines
)";
  return code;
}

int serve(const std::vector<std::string>& argv) {
  Args args(argv, {"--config"}, {});
  if (args.bad("serve")) return 2;
  auto cfg = loadOrReport(args.get("--config").value_or(kDefaultConfig));
  if (!cfg) return 2;
  setLogLevel(cfg->log_level);

  // Block the termination signals before any thread starts, so every thread inherits the mask
  // and only the sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<config::Error> errors;
  auto rt = pipeline::buildRuntime(*cfg, {true}, errors);
  if (!rt) {
    for (const auto& e : errors) std::cerr << e.str() << "\n";
    std::cerr << "inlet: refusing to start (" << errors.size() << " error(s))\n";
    return 2;
  }
  std::unique_ptr<journal::Journal> journal;
  try {
    journal = std::make_unique<journal::Journal>(cfg->journal, cfg->server.background_nice);
  } catch (const std::exception& e) {
    std::cerr << "inlet: cannot open the journal " << cfg->journal.path << ": " << e.what() << "\n";
    return 1;
  }
  auto delivery = std::make_unique<delivery::Delivery>(*journal, std::move(rt->sinks));
  journal->setCommitListener([d = delivery.get()](uint64_t seq) { d->notifyCommitted(seq); });
  journal->setPruneFloor([d = delivery.get()] { return d->floor(); });
  delivery->start(cfg->server.background_nice);

  server::Server server(*rt, *journal, delivery.get());
  try {
    server.start();
  } catch (const std::exception& e) {
    std::cerr << "inlet: " << e.what() << "\n";
    delivery->stop();
    journal->close();
    return 1;
  }
  std::string host = cfg->server.listen.substr(0, cfg->server.listen.rfind(':'));
  log::info("listening on " + host + ":" + std::to_string(server.port()) + " (" +
            std::to_string(server.loops()) + " event loops) with " +
            std::to_string(rt->pipelines.size()) + " pipeline(s); journal " + cfg->journal.path);

  int sig = 0;
  sigwait(&signals, &sig);
  log::info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  auto grace_end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg->server.shutdown_grace_ms);
  server.stop();
  // What was acknowledged reaches the sinks before the exit, within the same grace period.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      grace_end - std::chrono::steady_clock::now());
  auto behind = delivery->drain(std::max<int64_t>(0, left.count()));
  if (!behind.empty()) {
    std::string names;
    for (const auto& b : behind) names += (names.empty() ? "" : ", ") + b;
    log::warn("sinks still behind at shutdown (their events are delivered after the next start): " +
              names);
  }
  delivery->stop();
  journal->close();
  log::info("stopped cleanly");
  return 0;
}

int check(const std::vector<std::string>& argv) {
  Args args(argv, {"--config"}, {});
  if (args.bad("check")) return 2;
  std::string path = args.get("--config").value_or(kDefaultConfig);
  auto loaded = config::loadConfigFile(path);
  std::vector<config::Error> errors = loaded.errors;
  if (loaded.config && errors.empty()) {
    log::setLevel(log::Level::Warn);
    // Sinks are created too (their plugins check their own options), but never prepared or
    // written to: no connection is opened and nothing is created.
    pipeline::buildRuntime(*loaded.config, {true}, errors);
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::cout << e.str() << "\n";
    std::cout << errors.size() << " error(s)\n";
    return 1;
  }
  std::cout << path << ": ok (" << loaded.config->pipelines.size() << " pipeline(s), "
            << loaded.config->sinks.size() << " sink(s), " << loaded.config->secrets.size()
            << " secret(s))\n";
  return 0;
}

int plugins(const std::vector<std::string>& argv) {
  Args args(argv, {"--config"}, {});
  if (args.bad("plugins")) return 2;
  std::vector<std::string> paths{"build/plugins"};
  std::string path = args.get("--config").value_or(kDefaultConfig);
  auto loaded = config::loadConfigFile(path);
  if (loaded.config)
    paths = loaded.config->plugin_paths;
  else if (args.has("--config")) {
    for (const auto& e : loaded.errors) std::cerr << e.str() << "\n";
    return 2;
  }
  plugin::Registry reg;
  reg.scan(paths);
  std::printf("%-5s %-20s %-9s %-5s %s\n", "KIND", "NAME", "VERSION", "ABI", "FILE");
  for (const auto& p : reg.plugins())
    std::printf("%-5s %-20s %-9s %u.%-3u %s\n", plugin::kindName(p.kind), p.name.c_str(),
                p.version.c_str(), p.abi_major, p.abi_minor, p.file.c_str());
  for (const auto& r : reg.refusals())
    std::printf("REFUSED %s: %s\n", r.file.c_str(), r.reason.c_str());
  for (const auto& f : reg.missingFolders()) std::printf("MISSING folder %s\n", f.c_str());
  return 0;
}

namespace {

// Reads a captured raw HTTP/1.1 request: request line, headers, blank line, body.
bool parseCapture(const std::string& raw, pipeline::Request& r, std::string& error) {
  size_t pos = 0;
  auto line = [&](std::string& out) {
    if (pos >= raw.size()) return false;
    size_t nl = raw.find('\n', pos);
    out = raw.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    pos = nl == std::string::npos ? raw.size() : nl + 1;
    return true;
  };
  std::string first;
  if (!line(first)) {
    error = "the capture is empty";
    return false;
  }
  std::istringstream rl(first);
  std::string version;
  rl >> r.method >> r.target >> version;
  if (r.method.empty() || r.target.empty() || version.rfind("HTTP/", 0) != 0) {
    error = "the first line is not an HTTP request line (METHOD TARGET HTTP/1.1)";
    return false;
  }
  std::string h;
  bool chunked = false;
  std::optional<size_t> length;
  while (true) {
    if (!line(h)) break;
    if (h.empty()) break;
    auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      error = "malformed header line: " + h.substr(0, 80);
      return false;
    }
    std::string name = h.substr(0, colon), value = h.substr(colon + 1);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (name == "content-length") length = std::stoul(value);
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) chunked = true;
    r.headers.emplace_back(name, value);
  }
  std::string rest = raw.substr(std::min(pos, raw.size()));
  if (chunked) {
    std::string body;
    size_t p = 0;
    while (p < rest.size()) {
      size_t nl = rest.find('\n', p);
      if (nl == std::string::npos) break;
      size_t n = std::stoul(rest.substr(p, nl - p), nullptr, 16);
      p = nl + 1;
      if (n == 0) break;
      body += rest.substr(p, n);
      p += n;
      if (p < rest.size() && rest[p] == '\r') ++p;
      if (p < rest.size() && rest[p] == '\n') ++p;
    }
    r.body = body;
  } else if (length) {
    if (*length > rest.size()) {
      error = "the capture has fewer body bytes than its Content-Length";
      return false;
    }
    r.body = rest.substr(0, *length);
  } else {
    r.body = rest;
  }
  return true;
}

}  // namespace

int verify(const std::vector<std::string>& argv) {
  Args args(argv, {"--config", "--pipeline", "--request", "--now"}, {});
  if (args.bad("verify")) return 2;
  if (!args.has("--config") || !args.has("--pipeline") || !args.has("--request")) {
    std::cerr << "inlet verify: needs -c FILE --pipeline NAME --request FILE\n";
    return 2;
  }
  auto cfg = loadOrReport(*args.get("--config"));
  if (!cfg) return 2;
  log::setLevel(log::Level::Warn);
  std::vector<config::Error> errors;
  auto rt = pipeline::buildRuntime(*cfg, {false}, errors);
  if (!rt) {
    for (const auto& e : errors) std::cerr << e.str() << "\n";
    return 2;
  }
  auto it = rt->by_name.find(*args.get("--pipeline"));
  if (it == rt->by_name.end()) {
    std::cerr << "inlet verify: no pipeline named " << *args.get("--pipeline") << "\n";
    return 2;
  }
  std::ifstream in(*args.get("--request"), std::ios::binary);
  if (!in) {
    std::cerr << "inlet verify: cannot read " << *args.get("--request") << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  pipeline::Request r;
  std::string error;
  if (!parseCapture(ss.str(), r, error)) {
    std::cerr << "inlet verify: unusable capture: " << error << "\n";
    return 2;
  }
  r.received_ms = args.has("--now") ? std::stoll(*args.get("--now")) * 1000 : util::nowMs();
  r.remote_addr = "127.0.0.1:0";
  auto& p = *it->second;
  const auto& pc = p.config();
  std::string host;
  for (const auto& [n, v] : r.headers)
    if (n == "host") host = v;
  r.url = !pc.public_url.empty() ? pc.public_url + r.target : "http://" + host + r.target;

  std::cout << "pipeline:  " << pc.name << " (provider " << pc.provider << ")\n";
  std::cout << "request:   " << r.method << " " << r.target << ", " << r.headers.size()
            << " header(s), " << r.body.size() << " body byte(s)\n";
  std::cout << "url:       " << r.url << "\n";
  auto fail = [&](const std::string& step, int status, const std::string& code,
                  const std::string& message, const std::string& detail) {
    std::cout << "verdict:   REJECTED\n";
    std::cout << "step:      " << step << "\n";
    std::cout << "status:    " << status << "\n";
    std::cout << "code:      " << code << "\n";
    std::cout << "message:   " << message << "\n";
    if (!detail.empty()) std::cout << "detail:    " << detail << "\n";
    return 1;
  };
  std::string path = r.target.substr(0, r.target.find('?'));
  if (path != pc.path)
    std::cout << "note:      the captured path " << path << " is not this pipeline's path "
              << pc.path << "\n";
  if (!p.methodAllowed(r.method))
    return fail("method", 405, "method_not_allowed", "method not allowed", "");
  auto verdict = p.verify(r);
  if (verdict.verdict == INLET_REJECT)
    return fail("auth", verdict.http_status, verdict.code, verdict.message, verdict.detail);
  std::cout << "auth:      ok"
            << (verdict.delivery_id[0] ? std::string(", delivery id ") + verdict.delivery_id : "")
            << (verdict.event_type[0] ? std::string(", event type ") + verdict.event_type : "")
            << "\n";
  if (verdict.verdict == INLET_RESPOND) {
    std::cout << "verdict:   ACCEPTED (answered directly, nothing stored): "
              << verdict.response_body << "\n";
    return 0;
  }
  auto prepared = p.prepare(r, verdict);
  if (!prepared.ok)
    return fail("decode", prepared.error.status, prepared.error.code, prepared.error.message, "");
  std::cout << "decode:    ok, " << prepared.events.size() << " event(s)"
            << (prepared.claim_key.empty() ? "" : ", dedup key " + prepared.claim_key) << "\n";
  std::cout << "verdict:   ACCEPTED\n";
  return 0;
}

int replay(const std::vector<std::string>& argv) {
  Args args(argv, {"--config", "--sink", "--pipeline", "--since", "--until", "--id"},
            {"--dead-letters"});
  if (args.bad("replay")) return 2;
  if (!args.has("--sink")) {
    std::cerr << "inlet replay: needs --sink NAME\n";
    return 2;
  }
  auto cfg = loadOrReport(args.get("--config").value_or(kDefaultConfig));
  if (!cfg) return 2;
  setLogLevel(cfg->log_level);
  std::vector<config::Error> errors;
  auto rt = pipeline::buildRuntime(*cfg, {true}, errors);
  if (!rt) {
    for (const auto& e : errors) std::cerr << e.str() << "\n";
    return 2;
  }
  std::string sink_name = *args.get("--sink");
  auto sit = std::find_if(rt->sinks.begin(), rt->sinks.end(),
                          [&](const auto& s) { return s.name == sink_name; });
  if (sit == rt->sinks.end()) {
    auto configured = cfg->sinks.find(sink_name);
    if (configured != cfg->sinks.end() && configured->second.type == config::kJournalSinkType)
      std::cerr << "inlet replay: sink " << sink_name
                << " is of type journal: its tables are views over the journal and always show "
                   "every event; there is nothing to replay\n";
    else
      std::cerr << "inlet replay: no sink named " << sink_name << "\n";
    return 2;
  }
  journal::Reader::Filter filter;
  if (auto p = args.get("--pipeline")) filter.pipeline = *p;
  if (auto i = args.get("--id")) filter.id = *i;
  for (const char* k : {"--since", "--until"}) {
    if (auto t = args.get(k)) {
      auto ms = parseTimeMs(*t);
      if (!ms) {
        std::cerr << "inlet replay: " << k << " takes ISO-8601 or Unix seconds\n";
        return 2;
      }
      (std::string(k) == "--since" ? filter.since_ms : filter.until_ms) = *ms;
    }
  }
  bool dead = args.has("--dead-letters");
  if (dead) filter.dead_letters_of = sink_name;

  std::map<std::string, std::string> table_of;
  for (const auto& t : sit->tables) table_of[t.pipeline] = t.table;
  if (filter.pipeline && !table_of.count(*filter.pipeline)) {
    std::cerr << "inlet replay: sink " << sink_name << " does not serve pipeline "
              << *filter.pipeline << "\n";
    return 2;
  }
  std::string error;
  if (!delivery::prepareTables(*sit->instance, sit->tables, error)) {
    std::cerr << "inlet replay: sink not ready: " << error << "\n";
    return 1;
  }
  // Only the reader and the dead-letter table: no second writer, claims flusher or pruning next
  // to a running `inlet serve`.
  journal::Reader reader(cfg->journal.path);
  size_t total = 0;
  for (;;) {
    auto events = reader.select(filter, static_cast<size_t>(sit->batch_size));
    if (events.empty()) break;
    filter.after_seq = events.back().seq;
    std::vector<journal::Event> served;
    for (auto& e : events)
      if (table_of.count(e.pipeline)) served.push_back(std::move(e));
    if (served.empty()) continue;
    auto abi = delivery::toAbi(served, table_of);
    int rc = sit->instance->write(abi, error);
    if (rc != INLET_OK) {
      std::cerr << "inlet replay: sink refused a batch after " << total << " event(s): " << error
                << "\n";
      return 1;
    }
    total += served.size();
    if (dead) {
      std::vector<uint64_t> seqs;
      for (const auto& e : served) seqs.push_back(e.seq);
      journal::removeDeadLetters(cfg->journal.path, sink_name, seqs);
    }
  }
  std::cout << "replayed " << total << " event(s) to " << sink_name << "\n";
  return 0;
}

int importSql(const std::vector<std::string>& argv) {
#ifdef INLET_HAVE_IMPORT_SQL
  Args args(argv, {}, {"--with-secret-values"});
  if (args.bad("import-sql")) return 2;
  if (args.positional.size() != 1) {
    std::cerr << "inlet import-sql: needs one FILE.sql\n";
    return 2;
  }
  return runImportSql(args.positional[0], args.has("--with-secret-values"), std::cout, std::cerr);
#else
  std::cerr << "inlet import-sql: not available in this build\n";
  return 2;
#endif
}

}  // namespace inlet::cli
