#include "server/http.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

namespace inlet::server::http {

namespace {

// RFC 9110 §5.6.2 token characters.
bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Field value characters: VCHAR, obs-text, SP, HTAB. No CR, LF, NUL or other controls.
bool isValueChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

char lowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lowerChar(a[i]) != lowerChar(b[i])) return false;
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Parse fail(Error& e, int status, const char* code, std::string message) {
  e.status = status;
  e.code = code;
  e.message = std::move(message);
  return Parse::Failed;
}

// Calls f(token) for each comma-separated element of a list header, trimmed, empty ones skipped.
template <typename F>
void eachToken(std::string_view list, F&& f) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trimOws(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

Parse parseRequestLine(std::string_view line, Head& head, Error& error) {
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0)
    return fail(error, 400, "malformed_request", "malformed request line");
  std::string_view method = line.substr(0, sp1);
  for (unsigned char c : method)
    if (!isTchar(c)) return fail(error, 400, "malformed_request", "malformed request method");
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1)
    return fail(error, 400, "malformed_request", "malformed request line");
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f)
      return fail(error, 400, "malformed_request", "malformed request target");
  std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(error, 400, "malformed_request", "malformed HTTP version");
  if (version[5] != '1')
    return fail(error, 505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
  head.minor = version[7] - '0';
  head.method.assign(method);
  if (target.front() == '/') {
    head.target.assign(target);
  } else if (target == "*" && method == "OPTIONS") {
    head.target.assign(target);
  } else {
    // absolute-form (RFC 9112 §3.2.2): the authority replaces Host.
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos || !(iequals(target.substr(0, scheme_end), "http") ||
                                                  iequals(target.substr(0, scheme_end), "https")))
      return fail(error, 400, "malformed_request", "malformed request target");
    std::string_view rest = target.substr(scheme_end + 3);
    size_t slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    if (authority.empty() || authority.find('@') != std::string_view::npos)
      return fail(error, 400, "malformed_request", "malformed request target");
    head.host.assign(authority);
    if (slash == std::string_view::npos)
      head.target = "/";
    else if (rest[slash] == '?')
      head.target = "/" + std::string(rest.substr(slash));
    else
      head.target.assign(rest.substr(slash));
  }
  return Parse::Done;
}

}  // namespace

std::string_view Head::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

const std::string* Head::find(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return &v;
  return nullptr;
}

Parse parseHead(std::string_view data, const Limits& limits, Head& head, size_t& consumed,
                Error& error) {
  // Empty lines before the request line are ignored (RFC 9112 §2.2); bounded by the limit.
  size_t start = 0;
  while (start + 1 < data.size() && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  if (start >= limits.max_head_bytes)
    return fail(error, 431, "headers_too_large",
                "request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes");
  std::string_view rest = data.substr(start);

  // The request line is checked as soon as it is complete, so garbage is refused at once
  // instead of after the read timeout.
  size_t line_end = rest.find('\n');
  if (line_end == std::string_view::npos) {
    if (rest.size() > limits.max_head_bytes)
      return fail(error, 431, "headers_too_large",
                  "request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes");
    return Parse::Incomplete;
  }
  if (line_end == 0 || rest[line_end - 1] != '\r')
    return fail(error, 400, "malformed_request", "request lines must end with CRLF");
  head = Head{};
  if (parseRequestLine(rest.substr(0, line_end - 1), head, error) == Parse::Failed)
    return Parse::Failed;

  size_t end = rest.find("\r\n\r\n", line_end - 1);
  if (end == std::string_view::npos) {
    if (start + rest.size() > limits.max_head_bytes)
      return fail(error, 431, "headers_too_large",
                  "request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes");
    // A head ended by bare LFs would otherwise wait for the timeout.
    if (rest.find("\n\n", line_end) != std::string_view::npos ||
        rest.find("\n\r\n", line_end) != std::string_view::npos)
      return fail(error, 400, "malformed_request", "header lines must end with CRLF");
    return Parse::Incomplete;
  }
  if (start + end + 4 > limits.max_head_bytes)
    return fail(error, 431, "headers_too_large",
                "request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes");
  consumed = start + end + 4;

  bool te_seen = false, te_chunked_last = false, te_other = false, host_seen = false;
  std::string length_digits;
  size_t te_count = 0;
  size_t pos = line_end + 1;
  while (pos < end + 2) {
    size_t eol = rest.find("\r\n", pos);
    std::string_view line = rest.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.front() == ' ' || line.front() == '\t')
      return fail(error, 400, "malformed_request", "obsolete header line folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return fail(error, 400, "malformed_request", "malformed header line");
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      if (!isTchar(static_cast<unsigned char>(c)))
        return fail(error, 400, "malformed_request", "malformed header name");
      c = lowerChar(c);
    }
    std::string_view value = trimOws(line.substr(colon + 1));
    for (unsigned char c : value)
      if (!isValueChar(c))
        return fail(error, 400, "malformed_request", "control character in header " + name);
    if (head.headers.size() >= limits.max_headers)
      return fail(error, 431, "headers_too_large",
                  "more than " + std::to_string(limits.max_headers) + " headers");

    if (name == "content-length") {
      if (value.empty() || value.size() > 32)
        return fail(error, 400, "bad_content_length", "Content-Length is not a number");
      uint64_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9')
          return fail(error, 400, "bad_content_length", "Content-Length is not a number");
        uint64_t digit = static_cast<uint64_t>(c - '0');
        n = n > (UINT64_MAX - digit) / 10 ? UINT64_MAX : n * 10 + digit;
      }
      // Compared as digits, so two different absurd values never pass as "the same".
      std::string_view digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
      if (head.has_length && digits != length_digits)
        return fail(error, 400, "bad_content_length", "conflicting Content-Length headers");
      length_digits.assign(digits);
      head.has_length = true;
      head.content_length = n;
    } else if (name == "transfer-encoding") {
      te_seen = true;
      eachToken(value, [&](std::string_view coding) {
        ++te_count;
        te_chunked_last = iequals(coding, "chunked");
        if (!te_chunked_last) te_other = true;
      });
    } else if (name == "connection") {
      eachToken(value, [&](std::string_view option) {
        if (iequals(option, "close")) head.keep_alive = false;
      });
    } else if (name == "expect") {
      if (!iequals(value, "100-continue"))
        return fail(error, 417, "expectation_failed", "only Expect: 100-continue is supported");
      head.expect_continue = head.minor >= 1;
    } else if (name == "host") {
      if (host_seen) return fail(error, 400, "malformed_request", "more than one Host header");
      host_seen = true;
      // RFC 3986 authority characters only: the value becomes part of the signed URL.
      for (unsigned char c : value)
        if (!(std::isalnum(c) || std::strchr("-._~!$&'()*+,;=:[]%", c) != nullptr) || c == 0)
          return fail(error, 400, "malformed_request", "invalid Host header");
      if (head.host.empty()) head.host.assign(value);
    }
    head.headers.emplace_back(std::move(name), std::string(value));
  }

  if (head.minor == 0) {
    // HTTP/1.0: close unless the client asked to keep the connection.
    bool keep = false;
    for (const auto& [n, v] : head.headers)
      if (n == "connection")
        eachToken(v, [&](std::string_view option) {
          if (iequals(option, "keep-alive")) keep = true;
        });
    head.keep_alive = head.keep_alive && keep;
    if (te_seen)
      return fail(error, 400, "malformed_request", "Transfer-Encoding is not defined in HTTP/1.0");
  } else if (!host_seen) {
    return fail(error, 400, "missing_host", "HTTP/1.1 requests must carry a Host header");
  }
  if (te_seen) {
    if (te_other || te_count != 1 || !te_chunked_last)
      return fail(error, 501, "unsupported_transfer_encoding",
                  "only Transfer-Encoding: chunked is supported");
    // Both framings at once is the classic smuggling vector: refuse rather than pick one.
    if (head.has_length)
      return fail(error, 400, "bad_content_length",
                  "Content-Length and Transfer-Encoding together");
    head.chunked = true;
  }
  return Parse::Done;
}

Parse ChunkedDecoder::feed(std::string_view data, std::string& out, size_t& consumed,
                           Error& error) {
  size_t pos = 0;
  // Collects one CRLF-terminated line into line_; true once complete (without the CRLF).
  auto takeLine = [&](bool& complete) -> bool {
    size_t nl = data.find('\n', pos);
    size_t upto = nl == std::string_view::npos ? data.size() : nl + 1;
    if (line_.size() + (upto - pos) > max_line_ + 2) {
      if (state_ == State::Trailer)
        fail(error, 431, "headers_too_large", "chunked trailers too large");
      else
        fail(error, 400, "bad_chunk", "chunk line too long");
      return false;
    }
    line_.append(data.substr(pos, upto - pos));
    pos = upto;
    complete = nl != std::string_view::npos;
    if (complete) {
      if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
        fail(error, 400, "bad_chunk", "chunk lines must end with CRLF");
        return false;
      }
      line_.resize(line_.size() - 2);
    }
    return true;
  };

  while (state_ != State::Done) {
    if (pos >= data.size()) break;
    switch (state_) {
      case State::Size: {
        bool complete = false;
        if (!takeLine(complete)) return Parse::Failed;
        if (!complete) break;
        size_t i = 0;
        uint64_t size = 0;
        while (i < line_.size() && std::isxdigit(static_cast<unsigned char>(line_[i]))) {
          if (i >= 15) return fail(error, 400, "bad_chunk", "chunk size too large");
          char c = line_[i];
          size = size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
          ++i;
        }
        if (i == 0) return fail(error, 400, "bad_chunk", "malformed chunk size");
        std::string_view ext = std::string_view(line_).substr(i);
        while (!ext.empty() && (ext.front() == ' ' || ext.front() == '\t')) ext.remove_prefix(1);
        if (!ext.empty() && ext.front() != ';')
          return fail(error, 400, "bad_chunk", "malformed chunk size");
        for (unsigned char c : ext)
          if (!isValueChar(c)) return fail(error, 400, "bad_chunk", "malformed chunk extension");
        line_.clear();
        if (size == 0) {
          state_ = State::Trailer;
        } else {
          if (size > max_body_ || total_ + size > max_body_)
            return fail(error, 413, "body_too_large",
                        "body exceeds " + std::to_string(max_body_) + " bytes");
          remaining_ = size;
          state_ = State::Data;
        }
        break;
      }
      case State::Data: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size() - pos));
        out.append(data.substr(pos, n));
        pos += n;
        remaining_ -= n;
        total_ += n;
        if (remaining_ == 0) state_ = State::DataEnd;
        break;
      }
      case State::DataEnd: {
        bool complete = false;
        if (!takeLine(complete)) return Parse::Failed;
        if (!complete) break;
        if (!line_.empty()) return fail(error, 400, "bad_chunk", "chunk data longer than its size");
        state_ = State::Size;
        break;
      }
      case State::Trailer: {
        bool complete = false;
        if (!takeLine(complete)) return Parse::Failed;
        if (!complete) break;
        if (line_.empty()) {
          state_ = State::Done;
          break;
        }
        trailer_bytes_ += line_.size() + 2;
        if (trailer_bytes_ > max_line_)
          return fail(error, 431, "headers_too_large", "chunked trailers too large");
        size_t colon = line_.find(':');
        if (colon == std::string::npos || colon == 0)
          return fail(error, 400, "bad_chunk", "malformed trailer line");
        for (size_t i = 0; i < colon; ++i)
          if (!isTchar(static_cast<unsigned char>(line_[i])))
            return fail(error, 400, "bad_chunk", "malformed trailer line");
        for (size_t i = colon + 1; i < line_.size(); ++i)
          if (!isValueChar(static_cast<unsigned char>(line_[i])))
            return fail(error, 400, "bad_chunk", "malformed trailer line");
        line_.clear();
        break;
      }
      case State::Done:
        break;
    }
  }
  consumed = pos;
  return state_ == State::Done ? Parse::Done : Parse::Incomplete;
}

const char* reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Server Error";
  }
}

namespace {
// "Date:" value, formatted once per second per thread.
const std::string& httpDate() {
  thread_local time_t cached_at = 0;
  thread_local std::string cached;
  time_t now = std::time(nullptr);
  if (now != cached_at) {
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_at = now;
  }
  return cached;
}
}  // namespace

std::string response(int status, std::string_view content_type, std::string_view body,
                     bool keep_alive,
                     const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string r;
  r.reserve(160 + body.size());
  r += "HTTP/1.1 ";
  r += std::to_string(status);
  r += ' ';
  r += reasonPhrase(status);
  r += "\r\nServer: inlet\r\nDate: ";
  r += httpDate();
  // No body (and no Content-Length) where HTTP forbids one.
  const bool bodiless = status < 200 || status == 204 || status == 304;
  // Header values may come from plugins: CR and LF never reach the wire.
  auto appendValue = [&r](std::string_view v) {
    for (char c : v)
      if (c != '\r' && c != '\n') r += c;
  };
  r += "\r\n";
  if (!bodiless) {
    r += "Content-Type: ";
    appendValue(content_type);
    r += "\r\nContent-Length: ";
    r += std::to_string(body.size());
    r += "\r\n";
  }
  if (!keep_alive) r += "Connection: close\r\n";
  for (const auto& [name, value] : extra) {
    appendValue(name);
    r += ": ";
    appendValue(value);
    r += "\r\n";
  }
  r += "\r\n";
  if (!bodiless) r += body;
  return r;
}

}  // namespace inlet::server::http
