#include "util/json.h"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>

namespace inlet::util {

namespace {

struct Validator {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  Validator() {
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT json_valid(?1)", -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK)
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
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
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
