// SQL text shared by the host and plugins: lexing for `inlet import-sql` and the `expression`
// provider (string literals, white space and comments as PostgreSQL and RisingWave read them),
// and quoting for the statements the journal and the SQL sinks build.
#pragma once

#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace inlet::sdk::sql {

inline void appendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct StringLiteral {
  std::string value;
  size_t end = 0;       // index just past the closing quote
  std::string error;    // empty when the literal is valid
  size_t error_at = 0;  // index of the opening quote (unterminated) or of the bad escape's '\'
};

// Reads the string literal whose opening quote is s[quote]. '' stands for one quote. With
// `escapes` (E'…'), a backslash starts \b \f \n \r \t, \xH or \xHH, \o to \ooo (octal),
// \uXXXX or \UXXXXXXXX (a Unicode code point, as UTF-8); any other escaped character stands for
// itself (\\, \').
inline StringLiteral readStringLiteral(std::string_view s, size_t quote, bool escapes) {
  StringLiteral r;
  auto hex = [](char h) {
    return std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 32) - 'a' + 10;
  };
  auto isHex = [](char h) { return std::isxdigit(static_cast<unsigned char>(h)) != 0; };
  auto fail = [&](size_t at, const char* message) {
    r.error = message;
    r.error_at = at;
    r.value.clear();
    return r;
  };
  size_t i = quote + 1;
  for (;;) {
    if (i >= s.size()) return fail(quote, "unterminated string literal");
    char c = s[i];
    if (c == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        r.value.push_back('\'');
        i += 2;
        continue;
      }
      r.end = i + 1;
      return r;
    }
    if (!escapes || c != '\\') {
      r.value.push_back(c);
      ++i;
      continue;
    }
    const size_t at = i;
    if (i + 1 >= s.size()) return fail(quote, "unterminated string literal");
    char e = s[i + 1];
    i += 2;
    static constexpr std::string_view kLetters = "bfnrt", kControls = "\b\f\n\r\t";
    if (auto k = kLetters.find(e); k != std::string_view::npos) {
      r.value.push_back(kControls[k]);
      continue;
    }
    switch (e) {
      case 'x': {
        int v = 0, n = 0;
        for (; n < 2 && i < s.size() && isHex(s[i]); ++n, ++i) v = v * 16 + hex(s[i]);
        if (n == 0) return fail(at, "invalid \\x escape in E'' string");
        r.value.push_back(static_cast<char>(v));
        break;
      }
      case 'u':
      case 'U': {
        const int want = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (int n = 0; n < want; ++n, ++i) {
          if (i >= s.size() || !isHex(s[i]))
            return fail(at, "invalid Unicode escape in E'' string");
          cp = cp * 16 + static_cast<uint32_t>(hex(s[i]));
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          return fail(at, "invalid Unicode code point in E'' string");
        appendUtf8(r.value, cp);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          for (; n < 3 && i < s.size() && s[i] >= '0' && s[i] <= '7'; ++n, ++i)
            v = v * 8 + (s[i] - '0');
          r.value.push_back(static_cast<char>(v & 0xFF));
        } else {
          r.value.push_back(e);
        }
    }
  }
}

struct Skipped {
  size_t end = 0;  // the first byte that is neither white space nor inside a comment
  // Where a `/*` comment that never closes starts (npos when none does).
  size_t unterminated_comment = std::string_view::npos;
};

// Skips white space, `-- line` comments and `/* block */` comments from s[i]. Block comments
// nest, as in PostgreSQL: `/* a /* b */ c */` is one comment.
inline Skipped skipSpaceAndComments(std::string_view s, size_t i) {
  Skipped r;
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (s.substr(i, 2) == "--") {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (s.substr(i, 2) == "/*") {
      size_t start = i;
      int depth = 0;
      do {
        if (i >= s.size()) {
          r.end = s.size();
          r.unterminated_comment = start;
          return r;
        }
        if (s.substr(i, 2) == "/*") {
          ++depth;
          i += 2;
        } else if (s.substr(i, 2) == "*/") {
          --depth;
          i += 2;
        } else {
          ++i;
        }
      } while (depth > 0);
    } else {
      r.end = i;
      return r;
    }
  }
}

// `name` as a quoted identifier ("a""b"), for SQLite and PostgreSQL alike. A NUL byte, which
// neither allows in a name, throws std::invalid_argument.
inline std::string quoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '\0') throw std::invalid_argument("identifier contains a NUL byte");
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// `text` as a string literal ('it''s'): SQLite's, and PostgreSQL's with
// standard_conforming_strings on (the default since 9.1, and RisingWave's behaviour), where only
// the quote needs doubling.
inline std::string quoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace inlet::sdk::sql
