// Reading a request body as JSON, the same way in the host and in every plugin (header-only).
//
// The host accepts a body as JSON when SQLite's json_valid does (RFC 8259). Poco 1.11's parser,
// which builds the values plugins and typed columns read, refuses or misreads a few documents
// that RFC 8259 allows, and one such value anywhere in a body would hide every field of it
// (a provider's delivery id, a pipeline's columns and dedup key). parse() reads them as follows:
//
//   a lone UTF-16 surrogate escape ("\ud83d" from a truncated emoji) → U+FFFD
//   a byte that is not UTF-8 inside a string                         → U+FFFD
//   an integer past 64 bits (Poco wraps 2^64 to 0)                   → the nearest double
//   a number past a double's range (1e999)                           → its literal, as a string
//
// Documents nest as deep as SQLite allows (2,000 levels) instead of Poco's default 128. Reading,
// printing and freeing such a document takes under 512 KiB of stack.
#pragma once

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <inlet/text.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace inlet::sdk::json {

// SQLite's JSON nesting limit (JSON_MAX_DEPTH): json_valid refuses anything deeper.
constexpr size_t kMaxDepth = 2000;

namespace detail {

inline std::optional<uint32_t> hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return std::nullopt;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data() + i, s.data() + i + 4, v, 16);
  if (ec != std::errc() || end != s.data() + i + 4) return std::nullopt;
  return v;
}

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }

// The replacement for the number literal `tok` when Poco cannot read it exactly, else nullopt.
inline std::optional<std::string> numberFor(std::string_view tok, bool integer) {
  if (integer) {
    int64_t i = 0;
    auto r = std::from_chars(tok.data(), tok.data() + tok.size(), i);
    if (r.ec == std::errc() && r.ptr == tok.data() + tok.size()) return std::nullopt;
    uint64_t u = 0;
    r = std::from_chars(tok.data(), tok.data() + tok.size(), u);
    if (r.ec == std::errc() && r.ptr == tok.data() + tok.size()) return std::nullopt;
  }
  // strtod reads JSON's number grammar in the "C" locale, which Inlet never changes.
  const double d = std::strtod(std::string(tok).c_str(), nullptr);
  if (std::isinf(d)) return "\"" + std::string(tok) + "\"";
  if (!integer) return std::nullopt;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);  // |d| ≥ 2^63: always in exponent form
  return std::string(buf);
}

}  // namespace detail

// `text` with the values above rewritten so Poco's parser reads them, or nullopt when nothing
// needs rewriting. Any byte string is scanned safely; only valid JSON comes out meaningful.
inline std::optional<std::string> readable(std::string_view s) {
  std::string out;
  size_t copied = 0;  // s[copied, i) is not in `out` yet
  bool changed = false;
  auto replace = [&](size_t from, size_t to, std::string_view with) {
    out.append(s.data() + copied, from - copied);
    out.append(with);
    copied = to;
    changed = true;
  };
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < n && s[i] != '"';) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b == '\\') {
          if (i + 1 < n && s[i + 1] == 'u') {
            auto unit = detail::hex4(s, i + 2);
            if (unit && *unit >= 0xD800 && *unit <= 0xDFFF) {
              if (*unit <= 0xDBFF && i + 7 < n && s[i + 6] == '\\' && s[i + 7] == 'u') {
                auto low = detail::hex4(s, i + 8);
                if (low && *low >= 0xDC00 && *low <= 0xDFFF) {
                  i += 12;  // a valid pair
                  continue;
                }
              }
              replace(i, i + 6, "\\ufffd");
              i += 6;
              continue;
            }
          }
          i += 2;
        } else if (b >= 0x80) {
          const size_t len = text::detail::utf8Length(s, i);
          if (len == 0) replace(i, i + 1, "\\ufffd");
          i += len == 0 ? 1 : len;
        } else {
          ++i;
        }
      }
      ++i;  // the closing quote
    } else if (c == '-' || detail::isDigit(c)) {
      const size_t start = i;
      bool integer = true;
      for (++i; i < n && detail::isDigit(s[i]);) ++i;
      if (i < n && s[i] == '.') {
        integer = false;
        for (++i; i < n && detail::isDigit(s[i]);) ++i;
      }
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        integer = false;
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        while (i < n && detail::isDigit(s[i])) ++i;
      }
      // A literal short of 19 characters fits an int64; only an exponent or some 300 digits can
      // take a double past its range.
      if (i - start >= 19 ||
          (!integer && s.substr(start, i - start).find_first_of("eE") != std::string_view::npos))
        if (auto with = detail::numberFor(s.substr(start, i - start), integer))
          replace(start, i, *with);
    } else {
      ++i;
    }
  }
  if (!changed) return std::nullopt;
  out.append(s.data() + copied, std::min(n, i) - copied);
  return out;
}

// `text` (one JSON value; a bare scalar such as 17 or "abc" included) as Poco values, read as
// described at the top of this file; nullopt when it is not JSON Poco can hold.
inline std::optional<Poco::Dynamic::Var> parse(std::string_view text) {
  std::optional<std::string> rewritten = readable(text);
  std::string_view t = rewritten ? std::string_view(*rewritten) : text;
  const size_t first = t.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  t = t.substr(first, t.find_last_not_of(" \t\r\n") + 1 - first);
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(kMaxDepth);
    if (t.front() == '{' || t.front() == '[')
      return std::optional<Poco::Dynamic::Var>(std::in_place, parser.parse(std::string(t)));
    // Poco 1.11's parser refuses a bare scalar: parse it inside an array.
    auto arr = parser.parse("[" + std::string(t) + "]").extract<Poco::JSON::Array::Ptr>();
    if (!arr || arr->size() != 1) return std::nullopt;
    return std::optional<Poco::Dynamic::Var>(std::in_place, arr->get(0));
  } catch (...) {
    return std::nullopt;
  }
}

// The top-level JSON object of `text`, read as parse() reads it; null when `text` is not one.
inline Poco::JSON::Object::Ptr object(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  // Not an object (a form body, an array, a scalar): no parse at all.
  if (first == std::string_view::npos || text[first] != '{') return nullptr;
  auto v = parse(text);
  if (!v || v->type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
  return v->extract<Poco::JSON::Object::Ptr>();
}

}  // namespace inlet::sdk::json
