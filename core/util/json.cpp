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

bool sqliteJsonValid(std::string_view text) {
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

constexpr size_t kStrictMaxDepth = 1000;  // SQLite 3.40 refuses more than 2000

bool jsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool hexDigit(unsigned char c) {
  return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// One pass over the text with a stack of open containers. Every rule is RFC 8259's, so each
// text accepted here is accepted by SQLite's json_valid as well (the fuzz harness checks it);
// whatever is refused here is left to SQLite.
class StrictJson {
 public:
  explicit StrictJson(std::string_view t)
      : p_(reinterpret_cast<const unsigned char*>(t.data())), end_(p_ + t.size()) {}

  bool valid() {
    // After a value: ',' or the container's close, or the end of the text at depth 0.
    space();
    if (!value()) return false;
    for (;;) {
      space();
      if (depth_ == 0) return p_ == end_;
      if (p_ == end_) return false;
      const bool in_object = objects_[depth_ - 1];
      if (*p_ == (in_object ? '}' : ']')) {
        ++p_;
        --depth_;
        continue;
      }
      if (*p_++ != ',') return false;
      space();
      if (in_object && !key()) return false;
      if (!value()) return false;
    }
  }

 private:
  void space() {
    while (p_ != end_ && jsonSpace(static_cast<char>(*p_))) ++p_;
  }

  // A value, or the opening of a container with its first member or element (or its close).
  bool value() {
    for (;;) {
      if (p_ == end_) return false;
      switch (*p_) {
        case '"':
          return string();
        case '{':
        case '[': {
          if (depth_ == kStrictMaxDepth) return false;
          const bool object = *p_++ == '{';
          objects_[depth_++] = object;
          space();
          if (p_ != end_ && *p_ == (object ? '}' : ']')) {
            ++p_;
            --depth_;
            return true;
          }
          if (object && !key()) return false;
          continue;  // the first element or member's value
        }
        case 't':
          return literal("true");
        case 'f':
          return literal("false");
        case 'n':
          return literal("null");
        default:
          return number();
      }
    }
  }

  // A member's key and its colon, with the space around them.
  bool key() {
    if (p_ == end_ || *p_ != '"' || !string()) return false;
    space();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    space();
    return true;
  }

  bool string() {
    for (++p_; p_ != end_; ++p_) {
      const unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (++p_ == end_) return false;
      switch (*p_) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
          break;
        case 'u':
          if (end_ - p_ < 5 || !hexDigit(p_[1]) || !hexDigit(p_[2]) || !hexDigit(p_[3]) ||
              !hexDigit(p_[4]))
            return false;
          p_ += 4;
          break;
        default:
          return false;
      }
    }
    return false;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::string_view(reinterpret_cast<const char*>(p_), word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool number() {
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !digit(*p_)) return false;
    if (*p_++ != '0') digits();
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    return true;
  }

  bool digits() {
    const unsigned char* start = p_;
    while (p_ != end_ && digit(*p_)) ++p_;
    return p_ != start;
  }

  const unsigned char* p_;
  const unsigned char* const end_;
  size_t depth_ = 0;
  bool objects_[kStrictMaxDepth];  // per open container: an object (else an array)
};

}  // namespace

bool isStrictJson(std::string_view text) { return StrictJson(text).valid(); }

bool isValidJson(std::string_view text) {
  // The strict pass decides nearly every body a provider sends, in a fraction of the time
  // json_valid takes (it builds a parse tree); the rest SQLite decides.
  return isStrictJson(text) || sqliteJsonValid(text);
}

namespace {

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
