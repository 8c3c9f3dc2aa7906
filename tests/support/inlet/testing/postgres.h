// A real PostgreSQL server for tests: a fresh cluster in a temporary directory (under /dev/shm
// when writable), pg_ctl start on a free loopback port (unix socket in the same directory),
// stopped and removed on destruction.
//
//   inlet::testing::PostgresServer pg;  // throws std::runtime_error when it cannot start
//   options.conninfo = pg.conninfo();   // host=127.0.0.1 port=… user=postgres dbname=postgres
//   pg.query("SELECT id FROM t");       // rows of optional<string> (nullopt = NULL)
//   pg.scalar("SELECT count(*) FROM t");
//   pg.stop(); pg.start();              // fault tests: same port, same data directory
//
// The cluster is a copy of a template initdb'ed once per machine and user
// (<shm or tmp>/inlet-pg-template-v1-<major>-<uid>, guarded by flock; bump v1 when the initdb
// options change), so each server starts in well under a second.
//
// Uses Debian's server binaries (/usr/lib/postgresql/<version>/bin, package postgresql). When
// the test runs as root, the server runs as the unprivileged user `postgres` (PostgreSQL refuses
// to run as root): created if missing, owner of the temporary directory. Link libpq
// (PostgreSQL::PostgreSQL) into the test. `PostgresServer::binDir().empty()` tells a test to
// GTEST_SKIP() on machines without the server.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace inlet::testing {

class PostgresServer {
 public:
  using Row = std::vector<std::optional<std::string>>;

  PostgresServer() {
    bin_ = binDir();
    if (bin_.empty())
      throw std::runtime_error(
          "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
          "(apt-get install postgresql)");
    std::string tmpl = (baseDir() / "inlet-pg-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (geteuid() == 0) {
      if (!getpwnam("postgres") &&
          std::system("useradd --system --no-create-home --shell /usr/sbin/nologin postgres "
                      ">/dev/null 2>&1") != 0)
        throw std::runtime_error("cannot create the unprivileged user 'postgres'");
      as_user_ = "runuser -u postgres -- ";
      run("chown -R postgres: " + dir_, "chown");
    }
    // initdb costs seconds; a cluster copied from a template made once per machine costs
    // milliseconds (every test process starts its own server).
    run("cp -a " + templateDir() + " " + dataDir(), "copying the template cluster");
    port_ = freePort();
    start();
  }

  ~PostgresServer() {
    try {
      if (running_) stop();
    } catch (...) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Newest installed server version's bin directory, or "" when none is installed.
  static std::string binDir() {
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec))
      if (std::filesystem::exists(entry.path() / "bin" / "initdb"))
        found.push_back(entry.path() / "bin");
    if (found.empty()) return "";
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::stoi(a.parent_path().filename().string()) <
             std::stoi(b.parent_path().filename().string());
    });
    return found.back().string();
  }

  // Starts (again) on the same port and data directory; waits until it accepts connections.
  void start() {
    run(as_user_ + bin_ + "/pg_ctl -D " + dataDir() + " -l " + dir_ +
            "/server.log -w -t 60 -o \"-p " + std::to_string(port_) + " -k " + dir_ +
            " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off\" start "
            ">/dev/null 2>&1",
        "pg_ctl start", dir_ + "/server.log");
    running_ = true;
  }

  // mode: "fast" (disconnects clients, clean shutdown) or "immediate" (like a crash).
  void stop(const std::string& mode = "fast") {
    run(as_user_ + bin_ + "/pg_ctl -D " + dataDir() + " -m " + mode +
            " -w -t 60 stop >/dev/null 2>&1",
        "pg_ctl stop", dir_ + "/server.log");
    running_ = false;
  }

  bool running() const { return running_; }
  uint16_t port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) +
           " user=postgres dbname=postgres connect_timeout=5";
  }

  // Runs one statement (or several, without parameters) and returns the last result's rows.
  // Throws std::runtime_error with the server's message on failure.
  std::vector<Row> query(const std::string& sql) const {
    PGconn* conn = PQconnectdb(conninfo().c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn);
      PQfinish(conn);
      throw std::runtime_error("cannot connect: " + msg);
    }
    PGresult* res = PQexec(conn, sql.c_str());
    auto status = PQresultStatus(res);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::string msg = PQresultErrorMessage(res);
      PQclear(res);
      PQfinish(conn);
      throw std::runtime_error("query failed: " + msg + " in: " + sql);
    }
    std::vector<Row> rows;
    for (int r = 0; r < PQntuples(res); ++r) {
      Row row;
      for (int c = 0; c < PQnfields(res); ++c)
        row.push_back(PQgetisnull(res, r, c) ? std::nullopt
                                             : std::optional<std::string>(PQgetvalue(res, r, c)));
      rows.push_back(std::move(row));
    }
    PQclear(res);
    PQfinish(conn);
    return rows;
  }

  // The single value of a one-row, one-column query ("" for NULL).
  std::string scalar(const std::string& sql) const {
    auto rows = query(sql);
    if (rows.size() != 1 || rows[0].size() != 1)
      throw std::runtime_error("expected one value from: " + sql);
    return rows[0][0].value_or("");
  }

 private:
  std::string dataDir() const { return dir_ + "/data"; }

  // Memory-backed when possible: a cluster is ~25 MB, written and removed by every test process.
  static std::filesystem::path baseDir() {
    if (::access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
    return std::filesystem::temp_directory_path();
  }

  // <base>/inlet-pg-template-<major>-<uid>/data, made once under an exclusive lock; "ready" marks
  // a complete one (a crash mid-initdb leaves no marker and the next process starts over).
  std::string templateDir() const {
    auto major = std::filesystem::path(bin_).parent_path().filename().string();
    auto root = baseDir() / ("inlet-pg-template-v1-" + major + "-" + std::to_string(geteuid()));
    std::string lock_path = root.string() + ".lock";
    int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      if (lock >= 0) ::close(lock);
      throw std::runtime_error("cannot lock " + lock_path);
    }
    std::string data = (root / "data").string();
    try {
      if (!std::filesystem::exists(root / "ready")) {
        std::filesystem::remove_all(root);
        std::filesystem::create_directories(root);
        if (!as_user_.empty()) run("chown postgres: " + root.string(), "chown");
        run(as_user_ + bin_ + "/initdb -D " + data +
                " -A trust -U postgres -E UTF8 --locale=C --no-sync --wal-segsize=1 > " +
                root.string() + "/initdb.log 2>&1",
            "initdb", root.string() + "/initdb.log");
        std::ofstream(root / "ready") << "ok\n";
      }
    } catch (...) {
      ::close(lock);
      throw;
    }
    ::close(lock);
    return data;
  }

  static void run(const std::string& cmd, const std::string& what, const std::string& log = "") {
    if (std::system(cmd.c_str()) == 0) return;
    std::string tail;
    if (!log.empty()) {
      std::ifstream in(log);
      std::stringstream ss;
      ss << in.rdbuf();
      tail = ss.str();
      if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
    }
    throw std::runtime_error(what + " failed: " + cmd + "\n" + tail);
  }

  // An ephemeral port the kernel just handed out (and is very unlikely to hand out again soon).
  static uint16_t freePort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  std::string bin_, dir_, as_user_;
  uint16_t port_ = 0;
  bool running_ = false;
};

}  // namespace inlet::testing
