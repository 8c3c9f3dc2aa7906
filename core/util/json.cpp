#include "util/json.h"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>

namespace inlet::util {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
size_t utf8Len(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

}  // namespace

void appendJsonString(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = utf8Len(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

std::string jsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  appendJsonString(out, s);
  return out;
}

namespace {

struct Validator {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  Validator() {
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT json_valid(?1)", -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
            SQLITE_OK)
      throw std::runtime_error("cannot create the JSON validator");
  }
  ~Validator() {
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
};

}  // namespace

bool isValidJson(std::string_view text) {
  // SQLite's json_valid accepts a few JSON5-isms only from 3.42 on; Debian 12 ships 3.40 (strict).
  if (trimJsonSpace(text).empty()) return false;
  thread_local Validator v;
  sqlite3_bind_text(v.stmt, 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  bool ok = sqlite3_step(v.stmt) == SQLITE_ROW && sqlite3_column_int(v.stmt, 0) == 1;
  sqlite3_reset(v.stmt);
  sqlite3_clear_bindings(v.stmt);
  // json_valid ignores NUL-terminated tails; a NUL byte inside is never valid JSON.
  return ok && text.find('\0') == std::string_view::npos;
}

std::string_view trimJsonSpace(std::string_view s) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::vector<std::string_view>> arrayElements(std::string_view text) {
  std::string_view t = trimJsonSpace(text);
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') return std::nullopt;
  std::vector<std::string_view> out;
  size_t start = 1;
  std::string open;  // the brackets still open, innermost last
  bool in_string = false;
  const size_t end = t.size() - 1;
  for (size_t i = 1; i < end; ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      open.push_back(c);
    } else if (c == ']' || c == '}') {
      if (open.empty() || open.back() != (c == ']' ? '[' : '{')) return std::nullopt;
      open.pop_back();
    } else if (c == ',' && open.empty()) {
      auto el = trimJsonSpace(t.substr(start, i - start));
      if (el.empty()) return std::nullopt;
      out.push_back(el);
      start = i + 1;
    }
  }
  if (in_string || !open.empty()) return std::nullopt;
  auto last = trimJsonSpace(t.substr(start, end - start));
  if (last.empty()) {
    if (!out.empty()) return std::nullopt;  // trailing comma
  } else {
    out.push_back(last);
  }
  return out;
}

}  // namespace inlet::util
