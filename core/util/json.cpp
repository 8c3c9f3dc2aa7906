#include "util/json.h"

#include <inlet/json.h>
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

namespace {

bool jsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skipSpace(std::string_view t, size_t i) {
  while (i < t.size() && jsonSpace(t[i])) ++i;
  return i;
}

// End (one past) of the string literal whose opening quote is at `i`; npos when unterminated.
size_t stringEnd(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\')
      ++i;
    else if (t[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

// End (one past) of the value starting at `i`; npos when malformed or cut short.
size_t valueEnd(std::string_view t, size_t i) {
  if (i >= t.size()) return std::string_view::npos;
  if (t[i] == '"') return stringEnd(t, i);
  if (t[i] == '{' || t[i] == '[') {
    size_t depth = 0;
    for (; i < t.size(); ++i) {
      char c = t[i];
      if (c == '"') {
        i = stringEnd(t, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  // A number, true, false or null: up to the next delimiter.
  size_t start = i;
  while (i < t.size() && !jsonSpace(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  return i > start ? i : std::string_view::npos;
}

// The text of a string literal (quotes included) with its escapes decoded as the documents are
// read (inlet/json.h); nullopt when it is not a valid literal.
std::optional<std::string> decodedString(std::string_view literal) {
  auto value = sdk::json::parse(literal);
  if (!value || !value->isString()) return std::nullopt;
  return value->extract<std::string>();
}

// After a member or element ending at `i`: past the space and the comma to the next one.
size_t nextItem(std::string_view t, size_t i, size_t end) {
  i = skipSpace(t, i);
  return i < end && t[i] == ',' ? skipSpace(t, i + 1) : i;
}

}  // namespace

std::string_view trimJsonSpace(std::string_view s) {
  while (!s.empty() && jsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && jsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string jsonPointerToken(std::string_view raw) {
  std::string token;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
      token.push_back(raw[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      token.push_back(raw[i]);
    }
  }
  return token;
}

std::optional<size_t> jsonArrayIndex(std::string_view token) {
  if (token.empty() || token.size() > 9 ||
      token.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  size_t index = 0;
  for (char c : token) index = index * 10 + static_cast<size_t>(c - '0');
  return index;
}

std::optional<std::string_view> rawJsonAt(std::string_view json, std::string_view pointer) {
  size_t begin = skipSpace(json, 0);
  size_t end = valueEnd(json, begin);
  if (end == std::string_view::npos) return std::nullopt;
  if (!pointer.empty() && pointer.front() != '/') return std::nullopt;
  size_t pos = 1;
  while (pos <= pointer.size() && !pointer.empty()) {
    size_t next = pointer.find('/', pos);
    std::string token =
        jsonPointerToken(pointer.substr(pos, next == std::string_view::npos ? next : next - pos));
    std::optional<std::pair<size_t, size_t>> found;  // offsets in `json`
    if (json[begin] == '{') {
      size_t i = skipSpace(json, begin + 1);
      while (i < end && json[i] == '"') {
        size_t key_end = stringEnd(json, i);
        if (key_end == std::string_view::npos || key_end > end) return std::nullopt;
        std::string_view key = json.substr(i + 1, key_end - i - 2);
        // A key written with escapes is compared as Poco's parser reads it (rare: decoded only
        // then).
        const bool match = key.find('\\') == std::string_view::npos
                               ? key == token
                               : decodedString(json.substr(i, key_end - i)) == token;
        i = skipSpace(json, key_end);
        if (i >= end || json[i] != ':') return std::nullopt;
        i = skipSpace(json, i + 1);
        size_t value_end = valueEnd(json, i);
        if (value_end == std::string_view::npos || value_end > end) return std::nullopt;
        if (match) found = std::make_pair(i, value_end);  // the last one wins
        i = nextItem(json, value_end, end);
      }
    } else if (json[begin] == '[') {
      auto wanted = jsonArrayIndex(token);
      if (!wanted) return std::nullopt;
      const size_t index = *wanted;
      size_t i = skipSpace(json, begin + 1);
      for (size_t n = 0; i < end && json[i] != ']'; ++n) {
        size_t value_end = valueEnd(json, i);
        if (value_end == std::string_view::npos || value_end > end) return std::nullopt;
        if (n == index) {
          found = std::make_pair(i, value_end);
          break;
        }
        i = nextItem(json, value_end, end);
      }
    }
    if (!found) return std::nullopt;
    begin = found->first;
    end = found->second;
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return json.substr(begin, end - begin);
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
