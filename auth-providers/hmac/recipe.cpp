#include "recipe.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <stdexcept>

namespace inlet::auth::hmac {

namespace crypto = sdk::crypto;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(const std::string& msg) { throw std::invalid_argument(msg); }

}  // namespace

// ------------------------------------------------------------------------------------------

std::vector<TemplatePart> compileTemplate(std::string_view text) {
  using Kind = TemplatePart::Kind;
  std::vector<TemplatePart> parts;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) parts.push_back({Kind::Literal, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal.push_back('}');
        ++i;
        continue;
      }
      fail("message: stray '}' at position " + std::to_string(i) + " (write '}}' for a brace)");
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal.push_back('{');
      ++i;
      continue;
    }
    size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos)
      fail("message: unclosed '{' at position " + std::to_string(i));
    std::string_view name = text.substr(i + 1, close - i - 1);
    flush();
    if (name == "body") {
      parts.push_back({Kind::Body, ""});
    } else if (name == "timestamp") {
      parts.push_back({Kind::Timestamp, ""});
    } else if (name == "method") {
      parts.push_back({Kind::Method, ""});
    } else if (name == "url") {
      parts.push_back({Kind::Url, ""});
    } else if (name.substr(0, 7) == "header:") {
      std::string_view header = name.substr(7);
      if (header.empty()) fail("message: empty header name at position " + std::to_string(i));
      parts.push_back({Kind::Header, lower(header)});
    } else if (name.substr(0, 5) == "json:") {
      std::string_view pointer = name.substr(5);
      if (pointer.empty() || pointer.front() != '/')
        fail("message: {json:...} needs a JSON pointer starting with '/' at position " +
             std::to_string(i));
      parts.push_back({Kind::Json, std::string(pointer)});
    } else {
      fail("message: unknown placeholder {" + std::string(name) + "} at position " +
           std::to_string(i) +
           " (use {body}, {timestamp}, {method}, {url}, {header:NAME}, {json:/pointer})");
    }
    i = close;
  }
  flush();
  return parts;
}

// ------------------------------------------------------------------------------------------

std::optional<std::vector<HeaderItem>> splitItems(std::string_view header,
                                                  std::string_view separator,
                                                  std::string_view kv_separator, size_t max_items) {
  std::vector<HeaderItem> items;
  if (separator.empty()) return std::nullopt;
  size_t start = 0;
  while (start <= header.size()) {
    size_t end = header.find(separator, start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = trim(header.substr(start, end - start));
    if (!item.empty()) {
      if (items.size() == max_items) return std::nullopt;
      HeaderItem h{{}, item};
      if (!kv_separator.empty()) {
        size_t kv = item.find(kv_separator);
        if (kv != std::string_view::npos) {
          h.key = trim(item.substr(0, kv));
          h.value = trim(item.substr(kv + kv_separator.size()));
        }
      }
      items.push_back(h);
    }
    start = end + separator.size();
  }
  return items;
}

// ------------------------------------------------------------------------------------------

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::optional<int64_t> parseIso8601(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return std::nullopt;
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 ||
      second > 60)  // 60: a leap second, as RFC 3339 allows
    return std::nullopt;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  size_t i = 19;
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int scale = 100;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      millis += (s[i] - '0') * scale;  // sub-millisecond digits are dropped
      scale /= 10;
      ++i;
    }
    if (i == start || i - start > 9) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
        !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;  // a zone is required: a local time would be ambiguous
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
      hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + millis;
}

}  // namespace

std::optional<int64_t> parseTimestampMs(std::string_view text, TimestampUnit unit) {
  if (unit == TimestampUnit::Iso8601) return parseIso8601(text);
  // 15 digits: far beyond any real timestamp, and far from overflowing when scaled to ms.
  if (text.empty() || text.size() > 15) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return unit == TimestampUnit::Seconds ? v * 1000 : v;
}

// ------------------------------------------------------------------------------------------

std::optional<std::string> jsonPointer(const Poco::Dynamic::Var& root, std::string_view pointer) {
  if (pointer.empty() || pointer.front() != '/') return std::nullopt;
  Poco::Dynamic::Var current = root;
  size_t pos = 1;
  while (true) {
    size_t next = pointer.find('/', pos);
    std::string_view raw =
        pointer.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~') {
        if (i + 1 >= raw.size()) return std::nullopt;
        if (raw[i + 1] == '0')
          token.push_back('~');
        else if (raw[i + 1] == '1')
          token.push_back('/');
        else
          return std::nullopt;
        ++i;
      } else {
        token.push_back(raw[i]);
      }
    }
    if (current.type() == typeid(Poco::JSON::Object::Ptr)) {
      auto obj = current.extract<Poco::JSON::Object::Ptr>();
      if (!obj || !obj->has(token)) return std::nullopt;
      current = obj->get(token);
    } else if (current.type() == typeid(Poco::JSON::Array::Ptr)) {
      auto arr = current.extract<Poco::JSON::Array::Ptr>();
      // RFC 6901: array indices are decimal without leading zeros.
      if (!arr || token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0'))
        return std::nullopt;
      size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return std::nullopt;
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      if (index >= arr->size()) return std::nullopt;
      current = arr->get(static_cast<unsigned>(index));
    } else {
      return std::nullopt;
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  if (current.isEmpty()) return std::nullopt;
  if (current.isString()) return current.extract<std::string>();
  if (current.isBoolean()) return std::string(current.extract<bool>() ? "true" : "false");
  if (current.isInteger()) return current.convert<std::string>();
  return std::nullopt;
}

// ------------------------------------------------------------------------------------------

namespace {

void checkPointer(const std::string& option, const std::string& pointer) {
  if (!pointer.empty() && pointer.front() != '/')
    fail(option + ": a JSON pointer must start with '/' (e.g. /signature/timestamp)");
}

}  // namespace

Recipe parseRecipe(const sdk::Config& config) {
  Recipe r;
  r.header = lower(config.getString("header"));
  r.signature_json = config.getString("signature_json");
  if (r.header.empty() == r.signature_json.empty())
    fail("set exactly one of 'header' (signature in a header) or 'signature_json' (in the body)");
  checkPointer("signature_json", r.signature_json);

  auto algorithm = config.getString("algorithm", "sha256");
  if (algorithm == "sha1")
    r.algorithm = crypto::Digest::Sha1;
  else if (algorithm == "sha256")
    r.algorithm = crypto::Digest::Sha256;
  else if (algorithm == "sha512")
    r.algorithm = crypto::Digest::Sha512;
  else
    fail("algorithm: use sha1, sha256 or sha512");

  auto encoding = config.getString("encoding", "hex");
  if (encoding == "hex")
    r.encoding = Encoding::Hex;
  else if (encoding == "base64")
    r.encoding = Encoding::Base64;
  else if (encoding == "base64url")
    r.encoding = Encoding::Base64Url;
  else
    fail("encoding: use hex, base64 or base64url");
  r.prefix = config.getString("prefix");

  if (auto items = config.getObject("items")) {
    if (r.header.empty()) fail("items: only applies to a signature header");
    ItemsSpec spec;
    spec.separator = items->getString("separator");
    spec.kv_separator = items->getString("kv_separator");
    spec.signature_key = items->getString("signature_key");
    spec.timestamp_key = items->getString("timestamp_key");
    if (spec.separator.empty()) fail("items.separator: must not be empty (e.g. \",\" or \" \")");
    if (spec.kv_separator.empty() && (!spec.signature_key.empty() || !spec.timestamp_key.empty()))
      fail("items: signature_key / timestamp_key need items.kv_separator");
    if (!spec.kv_separator.empty() && spec.signature_key.empty())
      fail("items.signature_key: required with kv_separator (e.g. \"v1\")");
    if (spec.kv_separator == spec.separator) fail("items: separator and kv_separator must differ");
    r.items = std::move(spec);
  }

  r.timestamp_header = lower(config.getString("timestamp_header"));
  r.timestamp_json = config.getString("timestamp_json");
  checkPointer("timestamp_json", r.timestamp_json);
  int sources = (r.items && !r.items->timestamp_key.empty()) + !r.timestamp_header.empty() +
                !r.timestamp_json.empty();
  if (sources > 1)
    fail("use only one timestamp source: items.timestamp_key, timestamp_header or timestamp_json");

  auto unit = config.getString("timestamp_unit", "s");
  if (unit == "s")
    r.timestamp_unit = TimestampUnit::Seconds;
  else if (unit == "ms")
    r.timestamp_unit = TimestampUnit::Millis;
  else if (unit == "iso8601")
    r.timestamp_unit = TimestampUnit::Iso8601;
  else
    fail("timestamp_unit: use s, ms or iso8601");

  if (config.has("tolerance") && !r.hasTimestamp())
    fail(
        "tolerance: needs a timestamp source (items.timestamp_key, timestamp_header or "
        "timestamp_json)");
  r.tolerance_ms = r.hasTimestamp() ? config.getDurationMs("tolerance", 300'000) : 0;
  if (r.tolerance_ms < 0) fail("tolerance: must not be negative");
  r.reject_future = config.getBool("reject_future", true);

  r.message = compileTemplate(config.getString("message", "{body}"));
  for (const auto& p : r.message) {
    if (p.kind == TemplatePart::Kind::Timestamp && !r.hasTimestamp())
      fail("message: {timestamp} needs a timestamp source");
    if (p.kind == TemplatePart::Kind::Json) checkPointer("message", p.text);
  }
  if (r.message.empty()) fail("message: must not be empty");

  auto key_encoding = config.getString("key_encoding", "raw");
  if (key_encoding == "raw")
    r.key_encoding = Recipe::KeyEncoding::Raw;
  else if (key_encoding == "base64")
    r.key_encoding = Recipe::KeyEncoding::Base64;
  else if (key_encoding == "hex")
    r.key_encoding = Recipe::KeyEncoding::Hex;
  else
    fail("key_encoding: use raw, base64 or hex");
  r.key_prefix = config.getString("key_prefix");

  r.delivery_id_header = lower(config.getString("delivery_id_header"));
  r.event_type_header = lower(config.getString("event_type_header"));
  r.delivery_id_json = config.getString("delivery_id_json");
  r.event_type_json = config.getString("event_type_json");
  checkPointer("delivery_id_json", r.delivery_id_json);
  checkPointer("event_type_json", r.event_type_json);
  return r;
}

std::string prepareKey(const Recipe& recipe, const sdk::Secret& secret) {
  std::string_view value = secret.value;
  // Standard Webhooks libraries accept the secret with or without its "whsec_" prefix.
  if (!recipe.key_prefix.empty() && value.substr(0, recipe.key_prefix.size()) == recipe.key_prefix)
    value.remove_prefix(recipe.key_prefix.size());
  std::optional<std::string> key;
  switch (recipe.key_encoding) {
    case Recipe::KeyEncoding::Raw:
      key = std::string(value);
      break;
    case Recipe::KeyEncoding::Base64:
      key = crypto::fromBase64(value);
      break;
    case Recipe::KeyEncoding::Hex:
      key = crypto::fromHex(value);
      break;
  }
  if (!key)
    fail("secret '" + secret.name + "' is not valid " +
         (recipe.key_encoding == Recipe::KeyEncoding::Hex ? "hex" : "base64") + " (key_encoding)");
  if (key->empty()) fail("secret '" + secret.name + "' is empty");
  return *key;
}

}  // namespace inlet::auth::hmac
