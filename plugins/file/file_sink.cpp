#include "file_sink.h"

#include <inlet/text.h>

#include <fcntl.h>
#include <inlet/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace inlet::sinks {

namespace {

using sdk::text::appendJsonString;

std::string errnoText(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

// Embeds JSON text produced by the host. JSON allows raw CR/LF only as insignificant whitespace
// (inside strings they must be escaped), so dropping them keeps the record on one line without
// changing its meaning — the host's data_json is the provider's body, often pretty-printed.
void appendRawJson(std::string& out, std::string_view json, std::string_view fallback) {
  if (json.empty()) {
    out += fallback;
    return;
  }
  for (char c : json)
    if (c != '\n' && c != '\r') out.push_back(c);
}

std::string dirOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string rotationStamp(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string isoUtcMs(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[48];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%03dZ", millis);
  return buf;
}

FileSink::FileSink(Options options, sdk::Host host) : options_(std::move(options)), host_(host) {}

FileSink::~FileSink() { closeFile(); }

std::unique_ptr<FileSink> FileSink::create(const sdk::Config& config,
                                           const std::vector<sdk::Secret>&, const sdk::Host& host) {
  Options o;
  o.path = config.getString("path");
  if (o.path.empty()) throw std::invalid_argument("file sink: `path` is required");
  o.max_bytes = config.getInt("max_bytes", 0);
  if (o.max_bytes < 0) throw std::invalid_argument("file sink: `max_bytes` must be >= 0");
  o.rotate_every_ms = config.getDurationMs("rotate_every", 0);
  if (o.rotate_every_ms < 0) throw std::invalid_argument("file sink: `rotate_every` must be >= 0");
  o.fsync = config.getBool("fsync", true);
  return std::make_unique<FileSink>(std::move(o), host);
}

void FileSink::prepare(const sdk::TableSpec&) {
  // One file holds every pipeline this sink serves (each record names its pipeline and table);
  // nothing to declare. The file itself is opened lazily so a missing disk is a Retry, not a
  // failed start.
}

std::string FileSink::formatLine(const sdk::Event& e) {
  std::string out;
  out.reserve(256 + e.headers_json.size() + e.data_json.size() + e.columns_json.size() +
              (e.data_json.empty() ? e.body.size() * 4 / 3 : 0));
  out += "{\"id\":";
  appendJsonString(out, e.id);
  out += ",\"seq\":" + std::to_string(e.seq);
  out += ",\"pipeline\":";
  appendJsonString(out, e.pipeline);
  out += ",\"table\":";
  appendJsonString(out, e.table);
  out += ",\"received_at\":";
  appendJsonString(out, isoUtcMs(e.received_ms));
  out += ",\"provider\":";
  appendJsonString(out, e.provider);
  out += ",\"event_type\":";
  appendJsonString(out, e.event_type);
  out += ",\"delivery_id\":";
  appendJsonString(out, e.delivery_id);
  out += ",\"dedup_key\":";
  appendJsonString(out, e.dedup_key);
  out += ",\"authenticated\":";
  out += e.authenticated ? "true" : "false";
  out += ",\"headers\":";
  appendRawJson(out, e.headers_json, "{}");
  if (!e.data_json.empty()) {
    out += ",\"data\":";
    appendRawJson(out, e.data_json, "null");
  } else {
    // Not JSON: the raw bytes, base64 (standard alphabet, padded), so any payload round-trips.
    out += ",\"body\":";
    appendJsonString(out, sdk::crypto::toBase64(e.body));
  }
  out += ",\"columns\":";
  appendRawJson(out, e.columns_json, "{}");
  out.push_back('}');
  return out;
}

bool FileSink::syncDir(std::string& error) {
  if (!options_.fsync) return true;
  std::string dir = dirOf(options_.path);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    error = errnoText("cannot open directory", dir);
    return false;
  }
  int rc = ::fsync(dfd);
  int saved = errno;
  ::close(dfd);
  if (rc != 0) {
    errno = saved;
    error = errnoText("fsync failed on directory", dir);
    return false;
  }
  ++stats_.dir_syncs;
  return true;
}

bool FileSink::openFile(std::string& error) {
  if (fd_ >= 0) return true;
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
  bool created = false;
  int fd = ::open(options_.path.c_str(), flags | O_CREAT | O_EXCL, 0640);
  if (fd >= 0) {
    created = true;
  } else if (errno == EEXIST) {
    fd = ::open(options_.path.c_str(), flags);
  } else if (errno == ENOENT) {
    std::error_code ec;
    std::filesystem::create_directories(dirOf(options_.path), ec);
    fd = ::open(options_.path.c_str(), flags | O_CREAT | O_EXCL, 0640);
    created = fd >= 0;
  }
  if (fd < 0) {
    error = errnoText("cannot open", options_.path);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = errnoText("cannot stat", options_.path);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  size_ = static_cast<int64_t>(st.st_size);
  // An existing file belongs to the period of its last write, so a restart neither rotates a
  // current file early nor keeps writing into a file from an earlier period.
  int64_t mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  period_ = options_.rotate_every_ms > 0 && size_ > 0 ? mtime_ms / options_.rotate_every_ms : -1;
  // The new directory entry must be durable too, or a crash can lose the whole file.
  if (created && !syncDir(error)) {
    closeFile();
    return false;
  }
  return true;
}

void FileSink::closeFile() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  size_ = 0;
  period_ = -1;
}

bool FileSink::rotate(int64_t now_ms, std::string& error) {
  closeFile();
  std::string base = options_.path + "." + rotationStamp(now_ms);
  std::string target = base;
  for (int i = 1; std::filesystem::exists(target); ++i) target = base + "-" + std::to_string(i);
  if (::rename(options_.path.c_str(), target.c_str()) != 0) {
    error = errnoText("cannot rotate", options_.path);
    return false;
  }
  ++stats_.rotations;
  host_.info("file sink: rotated " + options_.path + " to " + target);
  return syncDir(error) && openFile(error);
}

sdk::WriteResult FileSink::write(const std::vector<sdk::Event>& events, std::string& error) {
  std::string buffer;
  for (const auto& e : events) {
    buffer += formatLine(e);
    buffer.push_back('\n');
  }
  if (!openFile(error)) return sdk::WriteResult::Retry;

  int64_t now = host_.nowMs();
  int64_t period = options_.rotate_every_ms > 0 ? now / options_.rotate_every_ms : -1;
  // A batch never straddles two files; a batch larger than max_bytes gets a file of its own.
  bool by_size = options_.max_bytes > 0 && size_ > 0 &&
                 size_ + static_cast<int64_t>(buffer.size()) > options_.max_bytes;
  bool by_time = period >= 0 && size_ > 0 && period_ >= 0 && period_ != period;
  if ((by_size || by_time) && !rotate(now, error)) return sdk::WriteResult::Retry;

  const int64_t before = size_;
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::write(fd_, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = errnoText("write failed on", options_.path);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (done == buffer.size() && options_.fsync) {
    if (::fsync(fd_) == 0) {
      ++stats_.file_syncs;
    } else {
      error = errnoText("fsync failed on", options_.path);
      done = 0;  // treat as failed: after a failed fsync the kernel may have dropped the pages
    }
  }
  if (done != buffer.size()) {
    // Cut the partial batch off so the retried batch does not follow a torn line. If even that
    // fails, reopen next time; a torn line may then remain (readers should skip unparsable lines).
    if (::ftruncate(fd_, before) != 0)
      host_.warn("file sink: " + errnoText("cannot truncate", options_.path));
    closeFile();
    return sdk::WriteResult::Retry;
  }
  size_ += static_cast<int64_t>(buffer.size());
  if (period >= 0) period_ = period;
  return sdk::WriteResult::Ok;
}

}  // namespace inlet::sinks
