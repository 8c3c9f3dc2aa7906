// Evaluator and PostgreSQL-compatible codecs. Nothing here throws on request data: failures
// caused by what the sender sent (bad UTF-8, a non-numeric header cast to bigint, bad base64)
// become EvalResult{Outcome::Error}, which the provider answers with 400.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "expr_internal.h"

#include <inlet/text.h>
#include "expr_lang.h"

namespace inlet::auth::expr {

namespace crypto = sdk::crypto;

// ------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------

Value Value::borrow() const {
  Value v = *this;
  if (!borrowed &&
      (type == Type::Text || type == Type::Bytea || type == Type::Jsonb || type == Type::Unknown)) {
    v.own.clear();
    v.ext = std::string_view(own);
    v.borrowed = true;
  }
  return v;
}
Value Value::nullOf(Type t) {
  Value v;
  v.type = t;
  return v;
}
Value Value::ofString(Type t, std::string s) {
  Value v;
  v.type = t;
  v.null = false;
  v.own = std::move(s);
  return v;
}
Value Value::ofView(Type t, std::string_view s) {
  Value v;
  v.type = t;
  v.null = false;
  v.ext = s;
  v.borrowed = true;
  return v;
}
Value Value::ofBool(bool b) {
  Value v;
  v.type = Type::Boolean;
  v.null = false;
  v.b = b;
  return v;
}
Value Value::ofInt(int64_t i) {
  Value v;
  v.type = Type::Bigint;
  v.null = false;
  v.i = i;
  return v;
}
Value Value::ofNumeric(double d) {
  Value v;
  v.type = Type::Numeric;
  v.null = false;
  v.d = d;
  return v;
}

// ------------------------------------------------------------------------------------------
// Codecs (PostgreSQL's encode.c behaviour)
// ------------------------------------------------------------------------------------------

namespace {
bool isPgSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
int b64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

// PostgreSQL writes a newline each time 76 characters have been written since the last one,
// checked after every input byte: so a multiple of 57 input bytes ends with a newline too.
std::string encodeBase64Pg(std::string_view bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(bytes.size() * 4 / 3 + bytes.size() / 57 + 4);
  size_t line = 0;
  uint32_t buf = 0;
  int pos = 2;
  for (unsigned char c : bytes) {
    buf |= static_cast<uint32_t>(c) << (pos * 8);
    if (--pos < 0) {
      out += {a[(buf >> 18) & 63], a[(buf >> 12) & 63], a[(buf >> 6) & 63], a[buf & 63]};
      line += 4;
      pos = 2;
      buf = 0;
    }
    if (line >= 76) {
      out.push_back('\n');
      line = 0;
    }
  }
  if (pos != 2) {
    out += {a[(buf >> 18) & 63], a[(buf >> 12) & 63]};
    out.push_back(pos == 0 ? a[(buf >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Whitespace is ignored anywhere (PostgreSQL). Padding is optional (PostgreSQL requires it; the
// Standard Webhooks libraries accept keys without it), but when present it must be right.
std::optional<std::string> decodeBase64Pg(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int n = 0;    // sextets in the current quantum
  int pad = 0;  // '=' seen
  for (char c : text) {
    if (isPgSpace(c)) continue;
    if (c == '=') {
      if (n < 2) return std::nullopt;
      ++pad;
      if (n + pad > 4) return std::nullopt;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    int v = b64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++n == 4) {
      out.push_back(static_cast<char>((acc >> 16) & 0xFF));
      out.push_back(static_cast<char>((acc >> 8) & 0xFF));
      out.push_back(static_cast<char>(acc & 0xFF));
      acc = 0;
      n = 0;
    }
  }
  if (pad && n + pad != 4) return std::nullopt;
  if (n == 1) return std::nullopt;
  if (n == 2) out.push_back(static_cast<char>((acc >> 4) & 0xFF));
  if (n == 3) {
    out.push_back(static_cast<char>((acc >> 10) & 0xFF));
    out.push_back(static_cast<char>((acc >> 2) & 0xFF));
  }
  return out;
}

std::optional<std::string> decodeHexPg(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 2);
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t i = 0;
  while (i < text.size()) {
    if (isPgSpace(text[i])) {
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) return std::nullopt;  // odd number of digits
    int hi = nib(text[i]), lo = nib(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return out;
}

std::string encodeEscapePg(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == 0 || c >= 0x80) {
      char buf[5] = {'\\', static_cast<char>('0' + (c >> 6)),
                     static_cast<char>('0' + ((c >> 3) & 7)), static_cast<char>('0' + (c & 7)), 0};
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::optional<std::string> decodeEscapePg(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    } else if (i + 3 < text.size() + 0 && text[i + 1] >= '0' && text[i + 1] <= '3' &&
               text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' &&
               text[i + 3] <= '7') {
      out.push_back(static_cast<char>(((text[i + 1] - '0') << 6) | ((text[i + 2] - '0') << 3) |
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::optional<std::string> byteaInput(std::string_view text) {
  if (text.size() >= 2 && text[0] == '\\' && (text[1] == 'x' || text[1] == 'X'))
    return decodeHexPg(text.substr(2));
  return decodeEscapePg(text);
}

std::string byteaOutput(std::string_view bytes) { return "\\x" + crypto::toHex(bytes); }

bool validUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == 0) return false;  // PostgreSQL text cannot hold NUL
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07;
    else
      return false;
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += static_cast<size_t>(len);
  }
  return true;
}

// ------------------------------------------------------------------------------------------
// Evaluation
// ------------------------------------------------------------------------------------------

namespace {

struct Ctx {
  const sdk::Request* request = nullptr;  // null while binding (constant sub-trees only)
  const std::vector<std::string>* secrets = nullptr;
  const std::vector<std::optional<Value>>* cache = nullptr;
  int report_id = -1;
  bool failed = false;
  std::string error;
  Pos error_pos;
  std::string error_message;
  std::string missing;  // first header that read as NULL
  bool report_false = false;
  std::string report_left, report_right;
};

Value fail(Ctx& c, const Node& n, const std::string& message) {
  if (!c.failed) {
    c.failed = true;
    c.error_pos = n.pos;
    c.error_message = message;
    c.error = "expression:" + std::to_string(n.pos.line) + ":" + std::to_string(n.pos.col) + ": " +
              message;
  }
  return Value::nullOf(n.type);
}

// Start of each character (UTF-8 lead byte) — robust even on invalid UTF-8.
bool isLead(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

size_t charCount(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), isLead));
}

// Byte offset of the character with 0-based index `k` (s.size() when past the end).
size_t charOffset(std::string_view s, int64_t k) {
  if (k <= 0) return 0;
  int64_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (isLead(s[i])) {
      if (seen == k) return i;
      ++seen;
    }
  }
  return s.size();
}

std::vector<std::string_view> chars(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 1; i <= s.size(); ++i) {
    if (i == s.size() || isLead(s[i])) {
      out.push_back(s.substr(start, i - start));
      start = i;
    }
  }
  return out;
}

// RisingWave builds `headers` with http's HeaderValue::to_str(): a value with any byte outside
// visible ASCII (plus tab) reads as ''.
std::string_view visibleAscii(std::string_view v) {
  for (unsigned char c : v)
    if (!(c == '\t' || (c >= 0x20 && c < 0x7F))) return {};
  return v;
}

std::string headersJson(const sdk::Request& r) {
  std::map<std::string_view, std::string_view> last;
  for (const auto& h : r.headers) last[h.first] = visibleAscii(h.second);
  std::string out = "{";
  for (const auto& [k, v] : last) {
    if (out.size() > 1) out += ", ";
    out += sdk::text::jsonString(k) + ": " + sdk::text::jsonString(v);
  }
  return out + "}";
}

std::string numericText(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

// Text form of a value (PostgreSQL output functions). `concat_style`: booleans as t/f.
std::string textOf(const Value& v, const sdk::Request* req, bool concat_style) {
  switch (v.type) {
    case Type::Text:
    case Type::Unknown:
      return std::string(v.str());
    case Type::Bytea:
      return byteaOutput(v.str());
    case Type::Bigint:
      return std::to_string(v.i);
    case Type::Numeric:
      return numericText(v.d);
    case Type::Boolean:
      return concat_style ? (v.b ? "t" : "f") : (v.b ? "true" : "false");
    case Type::Jsonb:
      return v.headers ? (req ? headersJson(*req) : "{}") : sdk::text::jsonString(v.str());
  }
  return {};
}

Value retype(Value v, Type t) {
  v.type = t;
  return v;
}

std::string shown(const Value& v, const sdk::Request* req) {
  if (v.null) return "NULL";
  std::string s = textOf(v, req, false);
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
    if (out.size() > 160) {
      out += "...";
      break;
    }
  }
  return v.type == Type::Text ? "'" + out + "'" : out;
}

Value eval(const Node& n, Ctx& c);

// Evaluates all arguments of a strict function. False when one is NULL or evaluation failed.
bool args(const Node& n, Ctx& c, std::vector<Value>& out) {
  out.clear();
  out.reserve(n.args.size());
  bool any_null = false;
  for (const auto& a : n.args) {
    out.push_back(eval(*a, c));
    if (c.failed) return false;
    any_null = any_null || out.back().null;
  }
  return !any_null;
}

Value castValue(const Node& n, const Value& v, Ctx& c) {
  switch (n.op) {
    case Op::CastText:
      if (v.type == Type::Text) return v;
      return Value::ofString(Type::Text, textOf(v, c.request, false));
    case Op::CastBytea: {
      if (v.type == Type::Bytea) return v;
      auto b = byteaInput(v.str());
      if (!b) return fail(c, n, "invalid input syntax for type bytea");
      return Value::ofString(Type::Bytea, std::move(*b));
    }
    case Op::CastBigint: {
      if (v.type == Type::Bigint) return v;
      if (v.type == Type::Numeric) {
        double r = std::round(v.d);  // PostgreSQL rounds half away from zero
        if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
          return fail(c, n, "bigint out of range");
        return Value::ofInt(static_cast<int64_t>(r));
      }
      auto i = castBigint(v.str());
      if (!i) return fail(c, n, "invalid input syntax for type bigint (or out of range)");
      return Value::ofInt(*i);
    }
    case Op::CastNumeric: {
      if (v.type == Type::Numeric) return v;
      if (v.type == Type::Bigint) return Value::ofNumeric(static_cast<double>(v.i));
      auto d = castNumeric(v.str());
      if (!d) return fail(c, n, "invalid input syntax for type numeric");
      return Value::ofNumeric(*d);
    }
    case Op::CastBoolean: {
      if (v.type == Type::Boolean) return v;
      auto b = castBoolean(v.str());
      if (!b) return fail(c, n, "invalid input syntax for type boolean");
      return Value::ofBool(*b);
    }
    default:
      return fail(c, n, "internal error: not a cast");
  }
}

int compare3(const Value& a, const Value& b) {
  switch (a.type) {
    case Type::Bigint:
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
    case Type::Numeric:
      return a.d < b.d ? -1 : a.d > b.d ? 1 : 0;
    case Type::Boolean:
      return a.b == b.b ? 0 : (a.b ? 1 : -1);
    default: {
      int r = a.str().compare(b.str());
      return r < 0 ? -1 : r > 0 ? 1 : 0;
    }
  }
}

Value arith(const Node& n, const Value& a, const Value& b, Ctx& c) {
  if (n.type == Type::Bigint) {
    int64_t r = 0;
    bool overflow = false;
    switch (n.op) {
      case Op::Add:
        overflow = __builtin_add_overflow(a.i, b.i, &r);
        break;
      case Op::Sub:
        overflow = __builtin_sub_overflow(a.i, b.i, &r);
        break;
      case Op::Mul:
        overflow = __builtin_mul_overflow(a.i, b.i, &r);
        break;
      case Op::Div:
      case Op::Mod:
        if (b.i == 0) return fail(c, n, "division by zero");
        if (a.i == INT64_MIN && b.i == -1) {
          if (n.op == Op::Mod) return Value::ofInt(0);
          overflow = true;
          break;
        }
        r = n.op == Op::Div ? a.i / b.i : a.i % b.i;
        break;
      default:
        break;
    }
    if (overflow) return fail(c, n, "bigint out of range");
    return Value::ofInt(r);
  }
  double r = 0;
  switch (n.op) {
    case Op::Add:
      r = a.d + b.d;
      break;
    case Op::Sub:
      r = a.d - b.d;
      break;
    case Op::Mul:
      r = a.d * b.d;
      break;
    case Op::Div:
    case Op::Mod:
      if (b.d == 0) return fail(c, n, "division by zero");
      r = n.op == Op::Div ? a.d / b.d : std::fmod(a.d, b.d);
      break;
    default:
      break;
  }
  if (!std::isfinite(r)) return fail(c, n, "numeric out of range");
  return Value::ofNumeric(r);
}

Value evalJson(const Node& n, Ctx& c) {
  Value obj = eval(*n.args[0], c);
  if (c.failed || obj.null) return Value::nullOf(n.type);
  Value key = eval(*n.args[1], c);
  if (c.failed || key.null) return Value::nullOf(n.type);
  if (!obj.headers || key.type != Type::Text) return Value::nullOf(n.type);  // not an object key
  auto h = c.request ? c.request->header(key.str()) : std::nullopt;
  if (!h) {
    if (c.missing.empty()) c.missing = std::string(key.str());
    return Value::nullOf(n.type);
  }
  Value v = Value::ofView(n.op == Op::JsonGet ? Type::Jsonb : Type::Text, visibleAscii(*h));
  return v;
}

Value trimValue(const Node& n, std::string_view s, std::string_view set) {
  auto cs = chars(s);
  auto setc = chars(set);
  auto in = [&](std::string_view ch) {
    return std::find(setc.begin(), setc.end(), ch) != setc.end();
  };
  size_t b = 0, e = cs.size();
  if (n.trim_side != TrimSide::Trailing)
    while (b < e && in(cs[b])) ++b;
  if (n.trim_side != TrimSide::Leading)
    while (e > b && in(cs[e - 1])) --e;
  if (b == e) return Value::ofString(Type::Text, "");
  size_t from = static_cast<size_t>(cs[b].data() - s.data());
  size_t to = static_cast<size_t>(cs[e - 1].data() + cs[e - 1].size() - s.data());
  return Value::ofString(Type::Text, std::string(s.substr(from, to - from)));
}

Value eval(const Node& n, Ctx& c) {
  if (c.cache && (*c.cache)[static_cast<size_t>(n.id)])
    return (*c.cache)[static_cast<size_t>(n.id)]->borrow();
  std::vector<Value> a;
  switch (n.op) {
    case Op::Literal:
      return n.literal.borrow();
    case Op::Secret:
      return Value::ofView(Type::Text, (*c.secrets)[static_cast<size_t>(n.secret)]);
    case Op::Body:
      return Value::ofView(Type::Bytea, c.request->body);
    case Op::Headers: {
      Value v;
      v.type = Type::Jsonb;
      v.null = false;
      v.headers = true;
      return v;
    }
    case Op::Now: {
      int64_t ms = c.request->received_ms;
      return Value::ofInt(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    }

    // SQL three-valued logic: FALSE AND NULL is FALSE, TRUE OR NULL is TRUE.
    case Op::And:
    case Op::Or: {
      bool decisive = n.op == Op::Or;  // the value that decides the result on its own
      Value l = eval(*n.args[0], c);
      if (c.failed) return Value::nullOf(Type::Boolean);
      if (!l.null && l.b == decisive) return Value::ofBool(decisive);
      Value r = eval(*n.args[1], c);
      if (c.failed) return Value::nullOf(Type::Boolean);
      if (!r.null && r.b == decisive) return Value::ofBool(decisive);
      if (l.null || r.null) return Value::nullOf(Type::Boolean);
      return Value::ofBool(!decisive);
    }
    case Op::IsNull:
    case Op::IsNotNull: {
      Value v = eval(*n.args[0], c);
      if (c.failed) return Value::nullOf(Type::Boolean);
      return Value::ofBool(v.null == (n.op == Op::IsNull));
    }
    case Op::Coalesce:
      for (const auto& arg : n.args) {
        Value v = eval(*arg, c);
        if (c.failed || !v.null) return v;
      }
      return Value::nullOf(n.type);
    case Op::ConcatFn: {
      // concat() skips NULL arguments (PostgreSQL, RisingWave): the one strict exception.
      std::string out;
      for (const auto& arg : n.args) {
        Value v = eval(*arg, c);
        if (c.failed) return Value::nullOf(Type::Text);
        if (!v.null) out += textOf(v, c.request, true);
      }
      return Value::ofString(Type::Text, std::move(out));
    }
    case Op::JsonGet:
    case Op::JsonGetText:
      return evalJson(n, c);
    default:
      break;
  }

  // Every remaining operation is strict: a NULL argument gives NULL.
  if (!args(n, c, a)) return Value::nullOf(n.type);

  switch (n.op) {
    case Op::Not:
      return Value::ofBool(!a[0].b);
    case Op::Eq:
    case Op::Ne: {
      bool eq;
      if (a[0].type == Type::Text || a[0].type == Type::Bytea) {
        // Constant time: `=` is often used on signatures by people moving from SQL.
        eq = crypto::constantTimeEqual(a[0].str(), a[1].str());
      } else {
        eq = compare3(a[0], a[1]) == 0;
      }
      bool result = n.op == Op::Eq ? eq : !eq;
      if (n.id == c.report_id && !result) {
        c.report_false = true;
        c.report_left =
            n.args[0]->reveals_secret ? "(derived from a secret)" : shown(a[0], c.request);
        c.report_right =
            n.args[1]->reveals_secret ? "(derived from a secret)" : shown(a[1], c.request);
      }
      return Value::ofBool(result);
    }
    case Op::Lt:
      return Value::ofBool(compare3(a[0], a[1]) < 0);
    case Op::Le:
      return Value::ofBool(compare3(a[0], a[1]) <= 0);
    case Op::Gt:
      return Value::ofBool(compare3(a[0], a[1]) > 0);
    case Op::Ge:
      return Value::ofBool(compare3(a[0], a[1]) >= 0);
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod:
      return arith(n, a[0], a[1], c);
    case Op::Neg:
      if (n.type == Type::Numeric) return Value::ofNumeric(-a[0].d);
      if (a[0].i == INT64_MIN) return fail(c, n, "bigint out of range");
      return Value::ofInt(-a[0].i);
    case Op::Abs:
      if (n.type == Type::Numeric) return Value::ofNumeric(std::fabs(a[0].d));
      if (a[0].i == INT64_MIN) return fail(c, n, "bigint out of range");
      return Value::ofInt(a[0].i < 0 ? -a[0].i : a[0].i);
    case Op::Concat: {
      std::string out;
      out.reserve(a[0].str().size() + a[1].str().size());
      out.append(a[0].str()).append(a[1].str());
      return Value::ofString(n.type, std::move(out));
    }
    case Op::CastText:
    case Op::CastBytea:
    case Op::CastBigint:
    case Op::CastNumeric:
    case Op::CastBoolean:
      return castValue(n, a[0], c);
    case Op::SecureCompare: {
      // CRYPTO_memcmp: the time taken must not reveal how many leading bytes of a forged
      // signature were right.
      bool eq = crypto::constantTimeEqual(a[0].str(), a[1].str());
      if (n.id == c.report_id && !eq) {
        c.report_false = true;
        c.report_left =
            n.args[0]->reveals_secret ? "(derived from a secret)" : shown(a[0], c.request);
        c.report_right =
            n.args[1]->reveals_secret ? "(derived from a secret)" : shown(a[1], c.request);
      }
      return Value::ofBool(eq);
    }
    case Op::Hmac:
      return Value::ofString(Type::Bytea, crypto::hmac(n.digest, a[0].str(), a[1].str()));
    case Op::Digest:
      return Value::ofString(Type::Bytea, crypto::hash(n.digest, a[0].str()));
    case Op::Md5:
      return Value::ofString(Type::Text,
                             crypto::toHex(crypto::hash(crypto::Digest::Md5, a[0].str())));
    case Op::Encode:
      switch (n.codec) {
        case Codec::Hex:
          return Value::ofString(Type::Text, crypto::toHex(a[0].str()));
        case Codec::Base64:
          return Value::ofString(Type::Text, encodeBase64Pg(a[0].str()));
        case Codec::Escape:
          return Value::ofString(Type::Text, encodeEscapePg(a[0].str()));
      }
      break;
    case Op::Decode: {
      std::optional<std::string> out;
      const char* what = "";
      switch (n.codec) {
        case Codec::Hex:
          out = decodeHexPg(a[0].str()), what = "hexadecimal";
          break;
        case Codec::Base64:
          out = decodeBase64Pg(a[0].str()), what = "base64";
          break;
        case Codec::Escape:
          out = decodeEscapePg(a[0].str()), what = "escape-format";
          break;
      }
      if (!out) return fail(c, n, std::string("decode(): invalid ") + what + " data");
      return Value::ofString(Type::Bytea, std::move(*out));
    }
    case Op::ConvertFrom:
      if (!validUtf8(a[0].str()))
        return fail(c, n, "convert_from(): invalid byte sequence for encoding UTF8");
      return retype(std::move(a[0]), Type::Text);
    case Op::ConvertTo:
      return retype(std::move(a[0]), Type::Bytea);
    case Op::SplitPart: {
      std::string_view s = a[0].str(), d = a[1].str();
      int64_t k = a[2].i;
      if (k == 0) return fail(c, n, "split_part(): field position must not be zero");
      std::vector<std::string_view> fields;
      if (d.empty()) {
        if (!s.empty()) fields.push_back(s);
      } else {
        size_t start = 0;
        for (;;) {
          size_t at = s.find(d, start);
          if (at == std::string_view::npos) {
            fields.push_back(s.substr(start));
            break;
          }
          fields.push_back(s.substr(start, at - start));
          start = at + d.size();
        }
      }
      int64_t count = static_cast<int64_t>(fields.size());
      int64_t idx = k > 0 ? k - 1 : count + k;
      if (idx < 0 || idx >= count) return Value::ofString(Type::Text, "");
      return Value::ofString(Type::Text, std::string(fields[static_cast<size_t>(idx)]));
    }
    case Op::Substr: {
      std::string_view s = a[0].str();
      bool text = n.type == Type::Text;
      int64_t len = static_cast<int64_t>(text ? charCount(s) : s.size());
      // PostgreSQL: characters S .. S+L-1, where positions before 1 exist but are empty.
      int64_t start = a[1].i;
      int64_t end = len + 1;
      if (a.size() > 2) {
        if (a[2].i < 0) return fail(c, n, "substr(): negative substring length not allowed");
        int64_t e;
        if (!__builtin_add_overflow(start, a[2].i, &e)) end = std::min(end, e);
      }
      int64_t from = std::max<int64_t>(start, 1);
      if (end <= from) return Value::ofString(n.type, "");
      size_t bf = text ? charOffset(s, from - 1) : static_cast<size_t>(from - 1);
      size_t bt = text ? charOffset(s, end - 1) : static_cast<size_t>(end - 1);
      bf = std::min(bf, s.size());
      bt = std::min(bt, s.size());
      return Value::ofString(n.type, std::string(s.substr(bf, bt - bf)));
    }
    case Op::Position: {
      std::string_view needle = a[0].str(), hay = a[1].str();
      size_t at = hay.find(needle);
      if (at == std::string_view::npos) return Value::ofInt(0);
      return Value::ofInt(static_cast<int64_t>(charCount(hay.substr(0, at))) + 1);
    }
    case Op::Replace: {
      std::string_view s = a[0].str(), from = a[1].str(), to = a[2].str();
      if (from.empty()) return Value::ofString(Type::Text, std::string(s));
      std::string out;
      size_t start = 0;
      for (;;) {
        size_t at = s.find(from, start);
        if (at == std::string_view::npos) break;
        out.append(s.substr(start, at - start)).append(to);
        start = at + from.size();
      }
      out.append(s.substr(start));
      return Value::ofString(Type::Text, std::move(out));
    }
    case Op::Lower:
    case Op::Upper: {
      // ASCII only: header names, hex digits and signature prefixes are ASCII.
      std::string out(a[0].str());
      for (auto& ch : out) {
        if (n.op == Op::Lower && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
        if (n.op == Op::Upper && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
      }
      return Value::ofString(Type::Text, std::move(out));
    }
    case Op::Trim:
      return trimValue(n, a[0].str(), a.size() > 1 ? a[1].str() : std::string_view(" "));
    case Op::Length:
      return Value::ofInt(static_cast<int64_t>(n.args[0]->type == Type::Text ? charCount(a[0].str())
                                                                             : a[0].str().size()));
    case Op::OctetLength:
      return Value::ofInt(static_cast<int64_t>(a[0].str().size()));
    case Op::StartsWith:
      return Value::ofBool(a[0].str().substr(0, a[1].str().size()) == a[1].str());
    default:
      break;
  }
  return fail(c, n, "internal error: unhandled operation");
}

// Records, for every maximal request-independent sub-tree, its value under these secrets.
void precompute(const Node& n, bool parent_constant, Ctx& c,
                std::vector<std::optional<Value>>& cache) {
  if (n.constant && !parent_constant && n.op != Op::Literal && n.op != Op::Secret) {
    Value v = eval(n, c);
    if (c.failed) throw CompileError(c.error_pos, c.error_message);
    cache[static_cast<size_t>(n.id)] = std::move(v);
    // Borrowed views point into the secrets vector or literals, both owned by the program /
    // binding for its whole life; materialise anyway so the cache owns what it serves.
    auto& slot = *cache[static_cast<size_t>(n.id)];
    if (slot.borrowed) {
      slot.own = std::string(slot.ext);
      slot.borrowed = false;
      slot.ext = {};
    }
    return;
  }
  for (const auto& a : n.args) precompute(*a, n.constant, c, cache);
}

}  // namespace

Bound Program::bind(std::vector<std::string> values) const {
  if (values.size() != secret_names_.size())
    throw std::invalid_argument("internal error: secret values do not match the names used");
  Bound b;
  b.program_ = this;
  b.secrets_ = std::move(values);
  b.cache_.assign(static_cast<size_t>(node_count_), std::nullopt);
  Ctx c;
  c.secrets = &b.secrets_;
  precompute(*root_, false, c, b.cache_);
  return b;
}

EvalResult Bound::evaluate(const sdk::Request& request) const {
  Ctx c;
  c.request = &request;
  c.secrets = &secrets_;
  c.cache = &cache_;
  c.report_id = program_->report_id_;
  Value v = eval(*program_->root_, c);
  EvalResult r;
  if (c.failed) {
    r.outcome = Outcome::Error;
    r.message = c.error;
  } else if (v.null) {
    r.outcome = Outcome::Null;
    r.message = c.missing.empty() ? "the validation expression evaluated to NULL"
                                  : "header " + c.missing + " is missing";
  } else if (v.b) {
    r.outcome = Outcome::True;
  } else {
    r.outcome = Outcome::False;
    if (c.report_false)
      r.detail = "compared " + c.report_left + " with " + c.report_right;
    else if (program_->report_id_ >= 0)
      r.detail = "the signature comparison matched; another condition was false";
  }
  return r;
}

}  // namespace inlet::auth::expr
