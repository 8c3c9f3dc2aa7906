// Runs the real `inlet` binary for integration tests: a temporary folder, a config file, a real
// process on a free port (listen 127.0.0.1:0; the port is read from its log), real HTTP.
#pragma once

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <inlet/crypto.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace inlet::testing {

namespace fs = std::filesystem;

inline std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void writeFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("inlet-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string str(const std::string& child = "") const {
    return child.empty() ? path_.string() : (path_ / child).string();
  }

 private:
  fs::path path_;
};

inline std::string githubSignature(const std::string& secret, const std::string& body) {
  return "sha256=" +
         sdk::crypto::toHex(sdk::crypto::hmac(sdk::crypto::Digest::Sha256, secret, body));
}

// A config with the real plugin folder, the journal and an SQLite sink in `dir`, and the given
// pipelines/secrets YAML appended (already indented at top level).
inline std::string baseConfig(const TempDir& dir, const std::string& server_extra = "") {
  return "server:\n  listen: 127.0.0.1:0\n" + server_extra +
         "journal:\n  path: " + dir.str("journal.db") + "\nplugins:\n  path: [" +
         std::string(INLET_PLUGIN_DIR) +
         "]\nsinks:\n  local: { type: sqlite, path: " + dir.str("inlet.db") + " }\n";
}

struct Result {
  int exit_code = -1;
  std::string out;
};

// Runs `inlet <args>` to completion (stdout+stderr captured).
inline Result runInlet(const std::vector<std::string>& args, const std::string& cwd = ".") {
  TempDir tmp;
  std::string out_file = tmp.str("out.txt");
  std::string cmd = "cd '" + cwd + "' && '" + std::string(INLET_BINARY) + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " > '" + out_file + "' 2>&1";
  int rc = std::system(cmd.c_str());
  Result r;
  r.exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = readFile(out_file);
  return r;
}

class InletServer {
 public:
  // Writes `config` to dir/inlet.yaml and starts `inlet serve` in `dir`.
  InletServer(const TempDir& dir, const std::string& config, std::vector<std::string> env = {})
      : dir_(dir.path()), env_(std::move(env)) {
    writeFile(dir_ / "inlet.yaml", config);
  }
  ~InletServer() { kill(SIGKILL); }

  // Returns false (with the log in `error`) when the server did not come up.
  bool start(std::string* error = nullptr, int timeout_ms = 15000) {
    ++starts_;
    log_path_ = dir_ / ("serve-" + std::to_string(starts_) + ".log");
    std::string bin = INLET_BINARY, cfg = (dir_ / "inlet.yaml").string();
    std::vector<std::string> args = {bin, "serve", "-c", cfg};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    for (const auto& e : env_) envs.push_back(e);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addchdir_np(&fa, dir_.c_str());
    int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      if (error) *error = "posix_spawn failed";
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string log = readFile(log_path_);
      auto pos = log.find("listening on ");
      if (pos != std::string::npos) {
        auto eol = log.find(' ', pos + 13);
        std::string addr = log.substr(pos + 13, eol - pos - 13);
        port_ = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
        return true;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (error)
          *error = "inlet exited (" + std::to_string(exit_code_) + "): " + readFile(log_path_);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (error) *error = "inlet did not start in time: " + readFile(log_path_);
    return false;
  }

  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  // SIGTERM and wait; returns the exit code.
  int stop() {
    kill(SIGTERM);
    return exit_code_;
  }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string log() const { return readFile(log_path_); }

 private:
  fs::path dir_, log_path_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int exit_code_ = -1;
  int starts_ = 0;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

inline HttpResponse http(uint16_t port, const std::string& method, const std::string& path,
                         const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {},
                         int timeout_ms = 10000) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(timeout_ms * 1000LL));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [n, v] : headers) req.add(n, v);
  if (!body.empty() || method == "POST")
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  auto& in = session.receiveResponse(resp);
  HttpResponse out;
  out.status = resp.getStatus();
  for (const auto& [n, v] : resp) out.headers[n] = v;
  Poco::StreamCopier::copyToString(in, out.body);
  return out;
}

inline HttpResponse post(uint16_t port, const std::string& path, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return http(port, "POST", path, body, headers);
}

// Sends raw bytes and returns everything received until the server closes or `timeout_ms`.
inline std::string raw(uint16_t port, const std::string& bytes, int timeout_ms = 5000,
                       bool half_close = false) {
  Poco::Net::StreamSocket s(Poco::Net::SocketAddress("127.0.0.1", port));
  s.setReceiveTimeout(Poco::Timespan(timeout_ms * 1000LL));
  s.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
  if (half_close) s.shutdownSend();
  std::string out;
  char buf[4096];
  try {
    for (;;) {
      int n = s.receiveBytes(buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  } catch (const Poco::TimeoutException&) {
  }
  return out;
}

inline int statusOf(const std::string& raw_response) {
  if (raw_response.size() < 12 || raw_response.rfind("HTTP/1.", 0) != 0) return 0;
  return std::stoi(raw_response.substr(9, 3));
}

// Runs a query and returns rows as "a|b\n" lines ("" for no rows; errors throw).
inline std::string sqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    throw std::runtime_error("cannot open " + path);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_close(db);
    throw std::runtime_error(msg);
  }
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int i = 0; i < sqlite3_column_count(st); ++i) {
      if (i) out += "|";
      auto* t = sqlite3_column_text(st, i);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    out += "\n";
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Polls `sql` until it returns `expected` or the timeout passes; returns the last result.
inline std::string waitForQuery(const std::string& path, const std::string& sql,
                                const std::string& expected, int timeout_ms = 10000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string last;
  while (true) {
    try {
      last = sqlite(path, sql);
    } catch (const std::exception& e) {
      last = std::string("error: ") + e.what();
    }
    if (last == expected || std::chrono::steady_clock::now() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

}  // namespace inlet::testing
