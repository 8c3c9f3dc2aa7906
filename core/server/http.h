// HTTP/1.1 wire format (RFC 9112) for the event-driven edge: request heads, chunked bodies and
// responses. Strict by design — everything a hostile sender controls is bounded and anything
// ambiguous (two lengths, obsolete line folding, bare CR, unknown transfer codings) is refused
// with a stable reason code instead of being guessed at, so no request can be smuggled past
// the body limit or split differently than a proxy in front of Inlet would split it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inlet::server::http {

struct Limits {
  size_t max_head_bytes = 32 * 1024;  // request line + headers (and chunked trailers)
  size_t max_headers = 100;
};

// A refusal: HTTP status, stable reason code, human message. The connection is closed after it.
struct Error {
  int status = 400;
  std::string code;
  std::string message;
};

struct Head {
  std::string method;
  std::string target;                                        // origin-form path?query, as received
  int minor = 1;                                             // HTTP/1.<minor>
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, arrival order
  bool keep_alive = true;
  bool chunked = false;
  bool has_length = false;
  uint64_t content_length = 0;  // saturates at UINT64_MAX; over 32 digits is refused
  bool expect_continue = false;
  std::string host;
  std::string_view path() const;
  // First value of a header (name in lower case), or nullptr.
  const std::string* find(std::string_view name) const;
};

enum class Parse { Incomplete, Done, Failed };

// Parses one request head from the start of `data`. On Done, `consumed` is the head's length
// including the blank line. Incomplete means more bytes are needed (and the limit is not yet
// exceeded). Leading empty lines before a request line are skipped (RFC 9112 §2.2).
Parse parseHead(std::string_view data, const Limits& limits, Head& head, size_t& consumed,
                Error& error);

// Incremental decoder for `Transfer-Encoding: chunked`. Feed it whatever arrived; it appends
// decoded bytes to `out` and stops at the end of the message (after any trailers, which are
// checked for syntax and discarded). The body limit is enforced as chunks arrive.
class ChunkedDecoder {
 public:
  ChunkedDecoder(uint64_t max_body, const Limits& limits)
      : max_body_(max_body), max_line_(limits.max_head_bytes) {}
  // Consumes bytes from `data`; `consumed` says how many. Done once the last chunk and its
  // trailers are in; bytes after that belong to the next request.
  Parse feed(std::string_view data, std::string& out, size_t& consumed, Error& error);

 private:
  enum class State { Size, Data, DataEnd, Trailer, Done } state_ = State::Size;
  uint64_t max_body_;
  size_t max_line_;
  uint64_t remaining_ = 0;  // bytes left in the current chunk
  uint64_t total_ = 0;
  std::string line_;  // partial size or trailer line
  size_t trailer_bytes_ = 0;
};

// Serialises a complete response. `extra` headers are written as given.
std::string response(int status, std::string_view content_type, std::string_view body,
                     bool keep_alive,
                     const std::vector<std::pair<std::string, std::string>>& extra = {});
const char* reasonPhrase(int status);

}  // namespace inlet::server::http
