// libFuzzer harness for the edge's HTTP/1.1 wire format (core/server/http.h): parseHead and
// ChunkedDecoder, on what a client could send down one connection.
//
// Fuzz input: one control byte, then the bytes of the connection.
//   bit 0     0: requests — heads are parsed one after the other (up to 8 pipelined requests);
//                a chunked body goes to a ChunkedDecoder, a Content-Length body is skipped.
//             1: the rest is a chunked body, fed straight to a ChunkedDecoder.
//   bits 1-2  max_head_bytes: 64, 256, 1024, 8192 (also the decoder's line and trailer limit)
//   bits 3-4  max_body: 0, 16, 1024, 1 MiB (max_headers is 8 below 1024 head bytes, else 100)
//   bits 5-7  seed of the piece sizes the body is fed in
//
// Checked on every input:
//   parseHead: Done heads are well-formed (lower-case token names, trimmed values without
//     controls, one Host in HTTP/1.1, never chunked together with a length, ...), `consumed`
//     ends on the blank line and stays within the limit, the same bytes alone parse to the same
//     head and every shorter prefix is Incomplete; Failed carries a known status/code pair and
//     stays Failed when more bytes arrive; Incomplete never holds more than the limit.
//   ChunkedDecoder: consumed <= what it was given (all of it when Incomplete), decoded size
//     <= max_body, and feeding the same bytes at once, in random pieces or byte by byte gives
//     the same outcome, output, consumed total and error. A finished decoder takes nothing more.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "check.h"
#include "server/http.h"

using namespace inlet::server::http;

namespace {

// Small deterministic generator for piece sizes (xorshift32).
struct Rng {
  uint32_t state;
  uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
  // Mostly short pieces (lines split anywhere), sometimes long ones.
  size_t piece() {
    uint32_t r = next();
    return (r & 7) == 0 ? r >> 20 : (r >> 8) % 12;
  }
};

bool isTchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isKnownError(const Error& e) {
  if (e.message.empty()) return false;
  if (e.status == 400)
    return e.code == "malformed_request" || e.code == "missing_host" ||
           e.code == "bad_content_length" || e.code == "bad_chunk";
  if (e.status == 413) return e.code == "body_too_large";
  if (e.status == 417) return e.code == "expectation_failed";
  if (e.status == 431) return e.code == "headers_too_large";
  if (e.status == 501) return e.code == "unsupported_transfer_encoding";
  if (e.status == 505) return e.code == "http_version_not_supported";
  return false;
}

bool sameHead(const Head& a, const Head& b) {
  return a.method == b.method && a.target == b.target && a.minor == b.minor &&
         a.headers == b.headers && a.keep_alive == b.keep_alive && a.chunked == b.chunked &&
         a.has_length == b.has_length && a.content_length == b.content_length &&
         a.expect_continue == b.expect_continue && a.host == b.host;
}

size_t leadingEmptyLines(std::string_view data) {
  size_t start = 0;
  while (start + 1 < data.size() && data[start] == '\r' && data[start + 1] == '\n') start += 2;
  return start;
}

void checkHeadFields(const Head& h, const Limits& limits) {
  CHECK(!h.method.empty());
  for (unsigned char c : h.method) CHECK(isTchar(c));
  CHECK(!h.target.empty());
  CHECK(h.target.front() == '/' || (h.target == "*" && h.method == "OPTIONS"));
  for (unsigned char c : h.target) CHECK(c > 0x20 && c < 0x7f);
  CHECK(h.path().size() <= h.target.size());
  CHECK(h.minor >= 0 && h.minor <= 9);
  CHECK(h.headers.size() <= limits.max_headers);
  size_t hosts = 0, lengths = 0;
  for (const auto& [name, value] : h.headers) {
    CHECK(!name.empty());
    for (unsigned char c : name) CHECK(isTchar(c) && !(c >= 'A' && c <= 'Z'));
    for (unsigned char c : value) CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
    if (!value.empty()) {
      CHECK(value.front() != ' ' && value.front() != '\t');
      CHECK(value.back() != ' ' && value.back() != '\t');
    }
    hosts += name == "host";
    lengths += name == "content-length";
  }
  if (h.minor >= 1) CHECK(hosts == 1);
  CHECK(hosts <= 1);
  CHECK(h.has_length == (lengths > 0));
  if (!h.has_length) CHECK(h.content_length == 0);
  if (h.chunked) CHECK(!h.has_length && h.minor >= 1 && h.find("transfer-encoding"));
  if (!h.chunked) CHECK(h.find("transfer-encoding") == nullptr);
  if (h.expect_continue) CHECK(h.minor >= 1 && h.find("expect"));
  if (h.minor == 0 && h.keep_alive) CHECK(h.find("connection"));
  if (!h.keep_alive) CHECK(h.minor == 0 || h.find("connection"));
}

// Parses one head from `data` and checks it; returns the result through the out-parameters.
Parse checkHead(std::string_view data, const Limits& limits, Head& head, size_t& consumed,
                Rng& rng) {
  Error error;
  consumed = SIZE_MAX;
  Parse p = parseHead(data, limits, head, consumed, error);
  size_t start = leadingEmptyLines(data);
  switch (p) {
    case Parse::Done: {
      CHECK(consumed <= data.size());
      CHECK(consumed >= start + 4);
      CHECK(data.substr(consumed - 4, 4) == "\r\n\r\n");
      CHECK(consumed - start <= limits.max_head_bytes);
      checkHeadFields(head, limits);
      // The same bytes alone give the same head; any shorter prefix is not a request yet.
      Head again;
      size_t again_consumed = 0;
      Error again_error;
      CHECK(parseHead(data.substr(0, consumed), limits, again, again_consumed, again_error) ==
            Parse::Done);
      CHECK(again_consumed == consumed);
      CHECK(sameHead(head, again));
      for (size_t cut : {consumed - 1, static_cast<size_t>(rng.next() % consumed)}) {
        Head partial;
        size_t partial_consumed = 0;
        Error partial_error;
        CHECK(parseHead(data.substr(0, cut), limits, partial, partial_consumed, partial_error) ==
              Parse::Incomplete);
      }
      break;
    }
    case Parse::Failed: {
      CHECK(isKnownError(error));
      // A refusal is decided by the bytes seen: more bytes never turn it into a request.
      std::string more(data);
      more += "\r\n\r\n";
      Head h2;
      size_t c2 = 0;
      Error e2;
      CHECK(parseHead(more, limits, h2, c2, e2) == Parse::Failed);
      break;
    }
    case Parse::Incomplete:
      CHECK(data.size() - start <= limits.max_head_bytes);
      CHECK(start < limits.max_head_bytes);
      break;
  }
  return p;
}

struct Decoded {
  Parse parse = Parse::Incomplete;
  std::string out;
  size_t consumed = 0;
  Error error;
};

// Feeds `body` in pieces whose sizes come from `next_piece` (0 = the rest at once) and checks
// each call.
template <typename NextPiece>
Decoded feedPieces(std::string_view body, uint64_t max_body, const Limits& limits,
                   NextPiece&& next_piece) {
  ChunkedDecoder decoder(max_body, limits);
  Decoded d;
  size_t pos = 0;
  for (;;) {
    size_t n = std::min(next_piece(), body.size() - pos);
    std::string_view piece = body.substr(pos, n);
    size_t used = SIZE_MAX;
    size_t before = d.out.size();
    d.parse = decoder.feed(piece, d.out, used, d.error);
    if (d.parse == Parse::Failed) {
      CHECK(isKnownError(d.error));
      CHECK(d.error.status == 400 || d.error.status == 413 || d.error.status == 431);
      break;
    }
    CHECK(used <= piece.size());
    CHECK(d.out.size() - before <= used);
    if (d.parse == Parse::Incomplete) CHECK(used == piece.size());
    pos += used;
    if (d.parse == Parse::Done) {
      // Finished: bytes after the message belong to the next request.
      size_t extra = SIZE_MAX;
      std::string out = d.out;
      Error error;
      CHECK(decoder.feed(body.substr(pos), out, extra, error) == Parse::Done);
      CHECK(extra == 0 && out == d.out);
      break;
    }
    if (pos == body.size()) break;
  }
  d.consumed = pos;
  CHECK(d.out.size() <= max_body);
  return d;
}

// Decodes a chunked body three ways and checks they agree; returns the bytes consumed on Done.
Decoded checkChunked(std::string_view body, uint64_t max_body, const Limits& limits, Rng& rng) {
  Decoded whole = feedPieces(body, max_body, limits, [&] { return body.size(); });
  if (whole.parse == Parse::Done) {
    CHECK(whole.consumed >= 5);  // at least "0\r\n\r\n"
    CHECK(body.substr(whole.consumed - 2, 2) == "\r\n");
  }
  std::vector<Decoded> others;
  others.push_back(feedPieces(body, max_body, limits, [&] { return rng.piece(); }));
  if (body.size() <= 4096)
    others.push_back(feedPieces(body, max_body, limits, [] { return size_t{1}; }));
  for (const Decoded& other : others) {
    CHECK(other.parse == whole.parse);
    if (whole.parse == Parse::Failed) {
      CHECK(other.error.status == whole.error.status);
      CHECK(other.error.code == whole.error.code);
    } else {
      CHECK(other.out == whole.out);
      CHECK(other.consumed == whole.consumed);
    }
  }
  return whole;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  static constexpr size_t kHeadBytes[] = {64, 256, 1024, 8192};
  static constexpr uint64_t kMaxBody[] = {0, 16, 1024, 1 << 20};
  Limits limits;
  limits.max_head_bytes = kHeadBytes[(control >> 1) & 3];
  limits.max_headers = limits.max_head_bytes < 1024 ? 8 : 100;
  const uint64_t max_body = kMaxBody[(control >> 3) & 3];
  Rng rng{(0x9e3779b9u ^ (static_cast<uint32_t>(control >> 5) * 0x85ebca6bu) ^
           static_cast<uint32_t>(size)) |
          1u};  // xorshift must not start at 0

  if (control & 1) {
    checkChunked(input, max_body, limits, rng);
    return 0;
  }
  // Pipelined requests, as the connection loop reads them.
  for (int request = 0; request < 8 && !input.empty(); ++request) {
    Head head;
    size_t consumed = 0;
    if (checkHead(input, limits, head, consumed, rng) != Parse::Done) break;
    input.remove_prefix(consumed);
    if (head.chunked) {
      Decoded body = checkChunked(input, max_body, limits, rng);
      if (body.parse != Parse::Done) break;
      input.remove_prefix(body.consumed);
    } else if (head.has_length) {
      if (head.content_length > input.size()) break;
      input.remove_prefix(static_cast<size_t>(head.content_length));
    }
  }
  return 0;
}
