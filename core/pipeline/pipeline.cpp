#include "pipeline/pipeline.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Timestamp.h>
#include <inlet/json.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <regex>
#include <sstream>

#include "util/ids.h"
#include "util/json.h"

namespace inlet::pipeline {

using config::ColumnConfig;
using config::PipelineConfig;
using Poco::Dynamic::Var;
using sdk::json::parse;

Outcome errorOutcome(int status, const std::string& code, const std::string& message) {
  Outcome o;
  o.status = status;
  o.code = code;
  o.message = message;
  o.body = "{\"error\":{\"code\":" + util::jsonString(code) +
           ",\"message\":" + util::jsonString(message) + "}}";
  o.retry_after = status == 429 || status == 503;
  return o;
}

namespace {

std::pair<Poco::Net::IPAddress, unsigned> parseCidr(const std::string& text) {
  auto slash = text.find('/');
  Poco::Net::IPAddress addr(text.substr(0, slash));
  unsigned max = addr.family() == Poco::Net::IPAddress::IPv4 ? 32 : 128;
  unsigned prefix =
      slash == std::string::npos ? max : static_cast<unsigned>(std::stoul(text.substr(slash + 1)));
  if (prefix > max) throw std::invalid_argument("prefix too long in " + text);
  return {addr, prefix};
}

bool matches(const Poco::Net::IPAddress& net, unsigned prefix, const Poco::Net::IPAddress& ip) {
  if (net.family() != ip.family()) return false;
  auto* a = static_cast<const unsigned char*>(net.addr());
  auto* b = static_cast<const unsigned char*>(ip.addr());
  unsigned full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string percentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+')
      out.push_back(' ');
    else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else
      out.push_back(s[i]);
  }
  return out;
}

std::optional<Var> pointerLookup(const Var& root, const std::string& pointer) {
  if (pointer.empty()) return std::optional<Var>(std::in_place, root);
  Var cur = root;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t next = pointer.find('/', pos);
    std::string key = util::jsonPointerToken(
        std::string_view(pointer).substr(pos, next == std::string::npos ? next : next - pos));
    if (cur.type() == typeid(Poco::JSON::Object::Ptr)) {
      auto obj = cur.extract<Poco::JSON::Object::Ptr>();
      if (!obj->has(key)) return std::nullopt;
      cur = obj->get(key);
    } else if (cur.type() == typeid(Poco::JSON::Array::Ptr)) {
      auto arr = cur.extract<Poco::JSON::Array::Ptr>();
      auto idx = util::jsonArrayIndex(key);
      if (!idx || *idx >= arr->size()) return std::nullopt;
      cur = arr->get(static_cast<unsigned>(*idx));
    } else {
      return std::nullopt;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return std::optional<Var>(std::in_place, cur);
}

std::string varToJson(const Var& v) {
  std::ostringstream os;
  Poco::JSON::Stringifier::condense(v, os);
  return os.str();
}

// ISO-8601 date-time with a zone, as providers send it (2021-03-25T05:09:27Z, …+02:00).
// Poco's parser alone is lenient ("yesterday" parses), so the shape is checked first.
bool looksIso8601(const std::string& s) {
  static const std::regex re(
      R"(^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$)");
  return std::regex_match(s, re);
}

bool isInteger(const Var& v) { return v.isInteger() && !v.isBoolean(); }

// False for an integer Poco read as unsigned above 2^63 - 1: integer columns and timestamps are
// signed 64-bit.
bool fitsInt64(const Var& v) {
  return v.isSigned() || v.convert<Poco::UInt64>() <=
                             static_cast<Poco::UInt64>(std::numeric_limits<int64_t>::max());
}

// The number at `pointer` as the sender wrote it (every digit of 2^64, the zero of 10.50), when
// `v`, the value Poco read there, is a number; text columns and dedup keys take it so.
std::optional<std::string_view> numberLiteral(const Var& v, std::string_view json,
                                              const std::string& pointer) {
  if (!v.isNumeric() || v.isBoolean()) return std::nullopt;
  auto raw = util::rawJsonAt(json, pointer);
  if (!raw || raw->empty() ||
      !(raw->front() == '-' || (raw->front() >= '0' && raw->front() <= '9')))
    return std::nullopt;
  return raw;
}

// Poco 1.11's parser reads a negative integer below -2^53 through a double, which loses its last
// digits (-9007199254740993 becomes -9007199254740992). The exact number, when `v` is such a
// value, from its literal at `pointer` in `json`.
std::optional<Poco::Int64> exactInteger(const Var& v, std::string_view json,
                                        const std::string& pointer) {
  if (!isInteger(v) || !v.isSigned()) return std::nullopt;
  Poco::Int64 n = 0;
  try {
    n = v.convert<Poco::Int64>();
  } catch (...) {
    return std::nullopt;
  }
  if (n > -(Poco::Int64(1) << 53)) return std::nullopt;  // exact down to -2^53
  auto raw = numberLiteral(v, json, pointer);
  if (!raw) return std::nullopt;
  Poco::Int64 exact = 0;  // an integer literal only: from_chars stops at '.' or 'e'
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), exact);
  if (ec != std::errc() || end != raw->data() + raw->size()) return std::nullopt;
  // The literal must be the number Poco rounded, not another value the pointer reached.
  if (std::fabs(static_cast<double>(exact) - static_cast<double>(n)) > 4096.0) return std::nullopt;
  return exact;
}

// The value at `pointer` in `root`, which Poco parsed from `json`, with every digit of integers.
std::optional<Var> valueAt(const Var& root, std::string_view json, const std::string& pointer) {
  auto v = pointerLookup(root, pointer);
  if (v)
    if (auto exact = exactInteger(*v, json, pointer)) *v = Var(*exact);
  return v;
}

// The JSON text of `v`, the value at `pointer` in `json`: a number as written.
std::string jsonText(const Var& v, std::string_view json, const std::string& pointer) {
  if (auto literal = numberLiteral(v, json, pointer)) return std::string(*literal);
  return varToJson(v);
}

// Column value → JSON text, or nullopt when the type is wrong.
std::optional<std::string> typedFromJson(const Var& v, ColumnConfig::Type t) {
  using T = ColumnConfig::Type;
  if (v.isEmpty()) return std::string("null");
  switch (t) {
    case T::Text:
      if (v.isString()) return util::jsonString(v.extract<std::string>());
      if (v.isNumeric() || v.isBoolean()) return util::jsonString(v.toString());
      return std::nullopt;
    case T::Integer:
      if (isInteger(v)) {
        // A signed 64-bit integer, as every sink's integer column holds it.
        if (!fitsInt64(v)) return std::nullopt;
        return v.toString();
      }
      if (v.isNumeric() && !v.isBoolean()) {
        double d = v.convert<double>();
        if (std::floor(d) == d && std::fabs(d) < 9.2e18)
          return std::to_string(static_cast<long long>(d));
      }
      return std::nullopt;
    case T::Real:
      if (v.isNumeric() && !v.isBoolean()) return varToJson(v);
      return std::nullopt;
    case T::Boolean:
      if (v.isBoolean()) return std::string(v.extract<bool>() ? "true" : "false");
      return std::nullopt;
    case T::Timestamp: {
      Poco::Timestamp ts;
      if (isInteger(v)) {
        // Seconds, or milliseconds when the number is too large to be seconds (after 5138 AD).
        // A time outside the years 1 to 9999 has no ISO-8601 form: refused, as is a number past
        // what 64 bits hold.
        constexpr int64_t kSecondsUpTo = 100'000'000'000;
        constexpr int64_t kFirstMs = -62'135'596'800'000;  // 0001-01-01T00:00:00.000Z
        constexpr int64_t kLastMs = 253'402'300'799'999;   // 9999-12-31T23:59:59.999Z
        if (!fitsInt64(v)) return std::nullopt;
        const int64_t n = v.convert<Poco::Int64>();
        const int64_t ms = n > kSecondsUpTo || n < -kSecondsUpTo ? n : n * 1000;
        if (ms < kFirstMs || ms > kLastMs) return std::nullopt;
        ts = Poco::Timestamp::fromEpochTime(0) + ms * 1000;
      } else if (v.isString()) {
        Poco::DateTime dt;
        int tzd = 0;
        if (!looksIso8601(v.extract<std::string>())) return std::nullopt;
        if (!Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FRAC_FORMAT,
                                            v.extract<std::string>(), dt, tzd) &&
            !Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT,
                                            v.extract<std::string>(), dt, tzd))
          return std::nullopt;
        dt.makeUTC(tzd);
        ts = dt.timestamp();
      } else {
        return std::nullopt;
      }
      return util::jsonString(Poco::DateTimeFormatter::format(ts, "%Y-%m-%dT%H:%M:%S.%iZ"));
    }
    case T::Json:
      return varToJson(v);
  }
  return std::nullopt;
}

std::optional<std::string> typedFromText(const std::string& s, ColumnConfig::Type t) {
  using T = ColumnConfig::Type;
  switch (t) {
    case T::Text:
      return util::jsonString(s);
    case T::Integer:
    case T::Real: {
      auto v = parse(s);
      if (!v) return std::nullopt;
      return typedFromJson(*valueAt(*v, s, ""), t);
    }
    case T::Boolean:
      if (s == "true" || s == "false") return s;
      return std::nullopt;
    case T::Timestamp: {
      if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19)
        return typedFromJson(Var(std::stoll(s)), t);
      return typedFromJson(Var(s), t);
    }
    case T::Json: {
      if (util::isValidJson(s)) return std::string(util::trimJsonSpace(s));
      return util::jsonString(s);
    }
  }
  return std::nullopt;
}

const char* typeName(ColumnConfig::Type t) {
  static const char* names[] = {"text", "integer", "real", "boolean", "timestamp", "json"};
  return names[static_cast<int>(t)];
}

const std::string* lastHeader(const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& name) {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it)
    if (it->first == name) return &it->second;
  return nullptr;
}

}  // namespace

std::string headersJson(const std::vector<std::pair<std::string, std::string>>& headers) {
  // Repeated headers are joined with ", " (RFC 9110 §5.3), so nothing the sender sent is lost
  // and the object has unique keys.
  std::vector<std::pair<std::string, std::string>> merged;
  for (const auto& header : headers) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& m) { return m.first == header.first; });
    if (it == merged.end())
      merged.push_back(header);
    else
      it->second += ", " + header.second;
  }
  std::string out = "{";
  for (size_t i = 0; i < merged.size(); ++i) {
    if (i) out += ',';
    util::appendJsonString(out, merged[i].first);
    out += ':';
    util::appendJsonString(out, merged[i].second);
  }
  out += '}';
  return out;
}

std::string formToJson(std::string_view body) {
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string_view part =
        body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string name = percentDecode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : percentDecode(part.substr(eq + 1));
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&](const auto& f) { return f.first == name; });
      if (it == fields.end())
        fields.push_back({name, {value}});
      else
        it->second.push_back(value);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    util::appendJsonString(out, fields[i].first);
    out += ':';
    if (fields[i].second.size() == 1) {
      util::appendJsonString(out, fields[i].second[0]);
    } else {
      out += '[';
      for (size_t k = 0; k < fields[i].second.size(); ++k) {
        if (k) out += ',';
        util::appendJsonString(out, fields[i].second[k]);
      }
      out += ']';
    }
  }
  out += '}';
  return out;
}

std::optional<std::string> jsonPointer(std::string_view json, const std::string& pointer) {
  auto root = parse(json);
  if (!root) return std::nullopt;
  auto v = valueAt(*root, json, pointer);
  if (!v) return std::nullopt;
  return jsonText(*v, json, pointer);
}

Pipeline::Pipeline(config::PipelineConfig config, std::unique_ptr<plugin::AuthInstance> auth)
    : config_(std::move(config)), auth_(std::move(auth)) {
  for (const auto& cidr : config_.allow_ips) allow_.push_back(parseCidr(cidr));
  tokens_ = config_.rate_limit.burst;
  last_refill_ms_ = util::nowMs();
}

bool Pipeline::methodAllowed(const std::string& method) const {
  return std::find(config_.methods.begin(), config_.methods.end(), method) != config_.methods.end();
}

bool Pipeline::ipAllowed(const std::string& address) const {
  if (allow_.empty()) return true;
  Poco::Net::IPAddress ip;
  if (!Poco::Net::IPAddress::tryParse(address, ip)) return false;
  if (ip.family() == Poco::Net::IPAddress::IPv6 && ip.isIPv4Mapped()) {
    auto text = ip.toString();
    Poco::Net::IPAddress::tryParse(text.substr(text.rfind(':') + 1), ip);
  }
  for (const auto& [net, prefix] : allow_)
    if (matches(net, prefix, ip)) return true;
  return false;
}

bool Pipeline::takeToken() {
  if (config_.rate_limit.per_second <= 0) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = util::nowMs();
  tokens_ = std::min(config_.rate_limit.burst,
                     tokens_ + (now - last_refill_ms_) * config_.rate_limit.per_second / 1000.0);
  last_refill_ms_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

void Pipeline::count(const std::string& code) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++counters_[code];
}

std::map<std::string, uint64_t> Pipeline::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

inlet_auth_result Pipeline::verify(const Request& r) const {
  plugin::AuthInput in;
  in.method = r.method;
  in.url = r.url;
  in.target = r.target;
  in.body = r.body;
  in.remote_addr = r.remote_addr;
  in.headers = &r.headers;
  in.received_ms = r.received_ms;
  return auth_->verify(in);
}

Prepared Pipeline::prepare(const Request& r, const inlet_auth_result& verdict) const {
  Prepared out;
  const bool first_only = (verdict.flags & INLET_AUTH_FIRST_ITEM_ONLY) != 0;

  // 1. Decode and split into element bodies (raw bytes are kept per element).
  struct Item {
    std::string_view body;
    std::string data;  // JSON text or ""
  };
  std::vector<Item> items;
  auto invalid = [&](const std::string& msg) {
    out.error = errorOutcome(422, "invalid_json", msg);
    return out;
  };
  switch (config_.split) {
    case PipelineConfig::Split::None:
      if (config_.decode == PipelineConfig::Decode::Form) {
        items.push_back({r.body, formToJson(r.body)});
      } else if (util::isValidJson(r.body)) {
        items.push_back({r.body, std::string(util::trimJsonSpace(r.body))});
      } else if (config_.decode == PipelineConfig::Decode::Json) {
        return invalid("the body is not valid JSON");
      } else {
        items.push_back({r.body, ""});
      }
      break;
    case PipelineConfig::Split::Jsonl: {
      std::string_view rest = r.body;
      size_t line_no = 0;
      while (!rest.empty() || line_no == 0) {
        ++line_no;
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (util::trimJsonSpace(line).empty()) {
          if (rest.empty()) break;
          continue;
        }
        if (!util::isValidJson(line))
          return invalid("line " + std::to_string(line_no) + " is not valid JSON");
        items.push_back({line, std::string(util::trimJsonSpace(line))});
        if (rest.empty()) break;
      }
      if (items.empty()) return invalid("the body has no JSON lines");
      break;
    }
    case PipelineConfig::Split::Array: {
      if (!util::isValidJson(r.body)) return invalid("the body is not valid JSON");
      auto elements = util::arrayElements(r.body);
      if (!elements) return invalid("the body is not a JSON array");
      if (elements->empty()) return invalid("the JSON array is empty");
      for (auto el : *elements) items.push_back({el, std::string(el)});
      break;
    }
  }

  // An item's data as Poco values; the first item's is parsed once for its key and its columns.
  std::optional<std::optional<Var>> first_document;
  auto document = [&](size_t i) -> std::optional<Var> {
    if (items[i].data.empty()) return std::nullopt;
    if (i != 0) return parse(items[i].data);
    if (!first_document) first_document = parse(items[0].data);
    return *first_document;
  };

  // 2. Dedup key (claimed once per request; each event carries a unique derived key).
  std::string key;
  switch (config_.dedup.kind) {
    case config::DedupConfig::Kind::None:
      break;
    case config::DedupConfig::Kind::Auto:
      key = verdict.delivery_id;
      break;
    case config::DedupConfig::Kind::Header:
      if (auto* h = lastHeader(r.headers, config_.dedup.argument)) key = *h;
      break;
    case config::DedupConfig::Kind::Json:
      // A string unquoted (the same id as a header gives the same key), else its JSON text.
      if (auto root = document(0))
        if (auto v = valueAt(*root, items.front().data, config_.dedup.argument))
          key = v->isString() ? v->extract<std::string>()
                              : jsonText(*v, items.front().data, config_.dedup.argument);
      break;
  }
  if (key.size() > 512) key.resize(512);  // a hostile sender must not make the index huge
  out.claim_key = key;

  // 3. Events with typed columns.
  std::string headers = headersJson(r.headers);
  out.events.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    journal::Event e;
    e.id = util::newEventId(r.received_ms);
    e.pipeline = config_.name;
    e.received_ms = r.received_ms;
    e.provider = config_.provider;
    e.event_type = verdict.event_type;
    e.delivery_id = verdict.delivery_id;
    e.dedup_key = key.empty() ? "" : (items.size() == 1 ? key : key + "#" + std::to_string(i));
    e.headers_json = headers;
    e.body = std::string(items[i].body);
    e.data_json = items[i].data;
    e.authenticated = !first_only || (config_.split != PipelineConfig::Split::None && i == 0);
    if (!config_.columns.empty()) {
      std::optional<Var> root = document(i);
      std::string cols = "{";
      for (size_t c = 0; c < config_.columns.size(); ++c) {
        const auto& col = config_.columns[c];
        std::optional<std::string> value;
        bool present = false;
        if (!col.header.empty()) {
          if (auto* h = lastHeader(r.headers, col.header)) {
            present = true;
            value = typedFromText(*h, col.type);
          }
        } else if (root) {
          if (auto v = valueAt(*root, e.data_json, col.pointer); v && !v->isEmpty()) {
            present = true;
            auto literal = col.type == ColumnConfig::Type::Text
                               ? numberLiteral(*v, e.data_json, col.pointer)
                               : std::nullopt;
            value = literal ? util::jsonString(*literal) : typedFromJson(*v, col.type);
          }
        }
        std::string where = items.size() > 1 ? " in item " + std::to_string(i + 1) : "";
        if (!present && col.required) {
          out.events.clear();
          out.error = errorOutcome(422, "missing_column",
                                   "required column '" + col.name + "' is missing" + where);
          return out;
        }
        if (present && !value) {
          out.events.clear();
          out.error = errorOutcome(
              422, "invalid_column",
              "column '" + col.name + "' is not a valid " + typeName(col.type) + where);
          return out;
        }
        if (c) cols += ',';
        util::appendJsonString(cols, col.name);
        cols += ':';
        cols += present ? *value : "null";
      }
      cols += '}';
      e.columns_json = std::move(cols);
    }
    out.events.push_back(std::move(e));
  }
  out.ok = true;
  return out;
}

}  // namespace inlet::pipeline
