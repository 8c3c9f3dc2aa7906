// Inlet plugin SDK — header-only C++ layer that plugin authors compile into their .so.
//
// A plugin author writes one class and one export line:
//
//   class MyProvider : public inlet::sdk::AuthProvider {
//    public:
//     static std::unique_ptr<MyProvider> create(const inlet::sdk::Config& config,
//                                               const std::vector<inlet::sdk::Secret>& secrets,
//                                               const inlet::sdk::Host& host);  // may throw
//     inlet::sdk::Verdict verify(const inlet::sdk::Request& request) const override;
//   };
//   const char kSchema[] =
//   R"json({"type":"object","additionalProperties":false,"properties":{}})json";
//   INLET_AUTH_PLUGIN(MyProvider, "my-provider", "1.0.0", "one line", kSchema)
//
// (Keep the schema in a named constant with a json delimiter: descriptions often contain `)"`.)
//
// THREADING: AuthProvider::verify is called concurrently from many request threads on one
// instance: keep it const and share only immutable state built in create(). Sink methods are
// called from a single delivery thread per instance.
// EXCEPTIONS: create() may throw std::exception to refuse a config (its what() becomes the
// error shown to the operator). verify()/write() should not throw; if they do, the SDK turns it
// into a rejection / a retryable failure — no exception ever crosses the C boundary.
#pragma once

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <inlet/abi.h>
#include <inlet/json.h>
#include <openssl/opensslv.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace inlet::sdk {

inline std::string_view view(inlet_str s) { return {s.ptr ? s.ptr : "", s.len}; }
inline inlet_str toC(std::string_view s) { return {s.data(), s.size()}; }

// Copies into a fixed C buffer, truncating, always NUL-terminated.
template <size_t N>
inline void copyTo(char (&dst)[N], std::string_view src) {
  size_t n = std::min(src.size(), N - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Parses "300s", "5m", "72h", "1d", "250ms", or a bare number of seconds. Returns milliseconds.
inline int64_t parseDurationMs(std::string_view text) {
  if (text.empty()) throw std::invalid_argument("empty duration");
  size_t i = 0;
  int64_t value = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (value > (INT64_MAX / 10) - 10) throw std::invalid_argument("duration too large");
    value = value * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0)
    throw std::invalid_argument("duration must start with a number: " + std::string(text));
  std::string_view unit = text.substr(i);
  int64_t mult;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else
    throw std::invalid_argument("unknown duration unit '" + std::string(unit) +
                                "' (use ms, s, m, h, d)");
  if (value > INT64_MAX / mult) throw std::invalid_argument("duration too large");
  return value * mult;
}

// Read-only view of a plugin's validated options (the host has already checked them against the
// plugin's schema, so types match the schema; defaults are the caller's).
class Config {
 public:
  Config() : obj_(new Poco::JSON::Object) {}
  explicit Config(Poco::JSON::Object::Ptr obj)
      : obj_(obj ? obj : Poco::JSON::Object::Ptr(new Poco::JSON::Object)) {}
  static Config parse(std::string_view json) {
    if (json.empty()) return Config();
    Poco::JSON::Parser parser;
    auto result = parser.parse(std::string(json));
    return Config(result.extract<Poco::JSON::Object::Ptr>());
  }

  bool has(const std::string& key) const { return obj_->has(key) && !obj_->isNull(key); }
  std::string getString(const std::string& key, const std::string& def = "") const {
    return has(key) ? obj_->getValue<std::string>(key) : def;
  }
  int64_t getInt(const std::string& key, int64_t def = 0) const {
    return has(key) ? obj_->getValue<Poco::Int64>(key) : def;
  }
  bool getBool(const std::string& key, bool def = false) const {
    return has(key) ? obj_->getValue<bool>(key) : def;
  }
  // A duration option: a string like "300s" or a number of seconds.
  int64_t getDurationMs(const std::string& key, int64_t def_ms) const {
    if (!has(key)) return def_ms;
    auto v = obj_->get(key);
    if (v.isString()) return parseDurationMs(v.extract<std::string>());
    return v.convert<Poco::Int64>() * 1000;
  }
  std::vector<std::string> getStrings(const std::string& key) const {
    std::vector<std::string> out;
    if (!has(key)) return out;
    auto v = obj_->get(key);
    if (v.isString()) {
      out.push_back(v.extract<std::string>());
      return out;
    }
    auto arr = obj_->getArray(key);
    for (size_t i = 0; arr && i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(i));
    return out;
  }
  std::optional<Config> getObject(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return Config(obj_->getObject(key));
  }
  std::vector<Config> getObjects(const std::string& key) const {
    std::vector<Config> out;
    if (!has(key)) return out;
    auto arr = obj_->getArray(key);
    for (size_t i = 0; arr && i < arr->size(); ++i) out.emplace_back(arr->getObject(i));
    return out;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& kv : *obj_) out.push_back(kv.first);
    return out;
  }
  const Poco::JSON::Object::Ptr& raw() const { return obj_; }

 private:
  Poco::JSON::Object::Ptr obj_;
};

// Reads top-level string fields of a JSON object body, for providers that take a delivery id or
// event type from what they authenticated. A body that is not a JSON object (or a field that is
// absent or not a string) yields "" for that field: deciding what to do with a non-JSON body is
// the pipeline's decoder's job, not the provider's.
inline std::vector<std::string> jsonStringFields(std::string_view body,
                                                 std::initializer_list<const char*> keys) {
  std::vector<std::string> out(keys.size());
  try {
    auto obj = json::object(body);
    if (!obj) return out;
    size_t k = 0;
    for (const char* key : keys) {
      auto v = obj->get(key);
      if (v.isString()) out[k] = v.extract<std::string>();
      ++k;
    }
  } catch (...) {
  }
  return out;
}

struct Secret {
  std::string name;
  std::string value;
};

// Host services. Safe to copy; valid for the instance's lifetime.
class Host {
 public:
  Host() = default;
  explicit Host(const inlet_host* h) : host_(h) {}
  void log(inlet_log_level level, std::string_view msg) const {
    if (host_ && host_->log) host_->log(host_->ctx, level, toC(msg));
  }
  void warn(std::string_view msg) const { log(INLET_LOG_WARN, msg); }
  void info(std::string_view msg) const { log(INLET_LOG_INFO, msg); }
  // Wall clock in Unix ms (the host's clock, which tests can pin).
  int64_t nowMs() const {
    if (host_ && host_->now_ms) return host_->now_ms(host_->ctx);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  const inlet_host* host_ = nullptr;
};

// ------------------------------------------------------------------------------------------
// Auth
// ------------------------------------------------------------------------------------------

class Request {
 public:
  Request() = default;
  explicit Request(const inlet_auth_request* r) {
    method = view(r->method);
    url = view(r->url);
    target = view(r->target);
    body = view(r->body);
    received_ms = r->received_ms;
    remote_addr = view(r->remote_addr);
    headers.reserve(r->header_count);
    for (size_t i = 0; i < r->header_count; ++i)
      headers.emplace_back(view(r->headers[i].name), view(r->headers[i].value));
  }

  // Header names are lower-case. Returns the LAST occurrence (RisingWave's rule).
  std::optional<std::string_view> header(std::string_view lower_name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
      if (it->first == lower_name) return it->second;
    return std::nullopt;
  }
  size_t headerCount(std::string_view lower_name) const {
    return static_cast<size_t>(std::count_if(headers.begin(), headers.end(),
                                             [&](const auto& h) { return h.first == lower_name; }));
  }
  // The query string of the target (after '?'), raw.
  std::string_view query() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  }

  std::string_view method, url, target, body, remote_addr;
  int64_t received_ms = 0;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

struct Verdict {
  inlet_verdict verdict = INLET_REJECT;
  int http_status = 401;
  uint32_t flags = 0;
  std::string code, message, detail;
  std::string delivery_id, event_type;
  int64_t signed_timestamp_ms = 0;
  std::string response_content_type, response_body;

  static Verdict accept(std::string delivery_id = {}, std::string event_type = {}) {
    Verdict v;
    v.verdict = INLET_ACCEPT;
    v.http_status = 200;
    v.delivery_id = std::move(delivery_id);
    v.event_type = std::move(event_type);
    return v;
  }
  static Verdict reject(int status, std::string code, std::string message,
                        std::string detail = {}) {
    Verdict v;
    v.verdict = INLET_REJECT;
    v.http_status = status;
    v.code = std::move(code);
    v.message = std::move(message);
    v.detail = std::move(detail);
    return v;
  }
  // Common reasons, shared by every provider so codes stay stable.
  static Verdict missingSignature(std::string_view header) {
    return reject(400, "missing_signature", "missing header " + std::string(header));
  }
  static Verdict malformedSignature(std::string message, std::string detail = {}) {
    return reject(400, "malformed_signature", std::move(message), std::move(detail));
  }
  static Verdict mismatch(std::string detail = {}) {
    return reject(401, "signature_mismatch", "signature does not match", std::move(detail));
  }
  static Verdict badCredentials(std::string message = "credentials do not match") {
    return reject(401, "bad_credentials", std::move(message));
  }
  static Verdict staleTimestamp(std::string detail = {}) {
    return reject(401, "timestamp_out_of_tolerance", "timestamp outside the allowed window",
                  std::move(detail));
  }
  bool accepted() const { return verdict != INLET_REJECT; }
};

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  virtual Verdict verify(const Request& request) const = 0;
};

// ------------------------------------------------------------------------------------------
// Sinks
// ------------------------------------------------------------------------------------------

struct Column {
  std::string name;
  inlet_column_type type;
};

struct TableSpec {
  std::string pipeline;
  std::string table;
  std::vector<Column> columns;
};

// Borrowed view of one journaled event (valid during write()).
struct Event {
  uint64_t seq = 0;
  std::string_view id, pipeline, table, provider, event_type, delivery_id, dedup_key;
  std::string_view headers_json, body, data_json, columns_json;
  int64_t received_ms = 0;
  bool authenticated = true;
};

enum class WriteResult { Ok = INLET_OK, Retry = INLET_RETRY, Drop = INLET_DROP };

class Sink {
 public:
  virtual ~Sink() = default;
  // Called once per pipeline served, before any of its events; may be called again after a
  // restart. Throw to report a failure (the host retries prepare later).
  virtual void prepare(const TableSpec& table) = 0;
  // Writes a batch atomically where the target allows. Set `error` on Retry/Drop.
  virtual WriteResult write(const std::vector<Event>& events, std::string& error) = 0;
};

// ------------------------------------------------------------------------------------------
// C entry glue (used by the export macros; not for direct use)
// ------------------------------------------------------------------------------------------
namespace detail {

inline const inlet_magic* magic() {
  static const inlet_magic m = {sizeof(inlet_magic),
                                INLET_MAGIC_TAG,
                                INLET_ABI_MAJOR,
                                INLET_ABI_MINOR,
#ifdef __GXX_ABI_VERSION
                                static_cast<uint32_t>(__GXX_ABI_VERSION),
#else
                                0u,
#endif
                                static_cast<uint32_t>(OPENSSL_VERSION_MAJOR),
                                static_cast<uint32_t>(sizeof(void*))};
  return &m;
}

inline void setError(inlet_error* err, std::string_view msg) {
  if (err) copyTo(err->message, msg);
}

inline std::vector<Secret> secrets(const inlet_secret* s, size_t n) {
  std::vector<Secret> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back({std::string(view(s[i].name)), std::string(view(s[i].value))});
  return out;
}

template <class T>
int32_t create(const inlet_host* host, inlet_str config_json, const inlet_secret* s, size_t n,
               void** instance, inlet_error* err) noexcept {
  try {
    Config cfg = Config::parse(view(config_json));
    std::unique_ptr<T> obj = T::create(cfg, secrets(s, n), Host(host));
    if (!obj) {
      setError(err, "plugin refused its configuration");
      return INLET_ERROR;
    }
    *instance = obj.release();
    return INLET_OK;
  } catch (const std::exception& e) {
    setError(err, e.what());
  } catch (...) {
    setError(err, "unknown error while creating the plugin instance");
  }
  return INLET_ERROR;
}

template <class T>
void destroy(void* instance) noexcept {
  delete static_cast<T*>(instance);
}

inline void fillResult(const Verdict& v, inlet_auth_result* out) {
  out->verdict = v.verdict;
  out->http_status = v.http_status;
  out->flags = v.flags;
  copyTo(out->code, v.code);
  copyTo(out->message, v.message);
  copyTo(out->detail, v.detail);
  copyTo(out->delivery_id, v.delivery_id);
  copyTo(out->event_type, v.event_type);
  out->signed_timestamp_ms = v.signed_timestamp_ms;
  copyTo(out->response_content_type, v.response_content_type);
  copyTo(out->response_body, v.response_body);
}

template <class T>
int32_t verify(void* instance, const inlet_auth_request* req, inlet_auth_result* out) noexcept {
  try {
    Request request(req);
    fillResult(static_cast<const T*>(instance)->verify(request), out);
    return INLET_OK;
  } catch (const std::exception& e) {
    fillResult(Verdict::reject(400, "malformed_request", "the request could not be verified"), out);
  } catch (...) {
    fillResult(Verdict::reject(400, "malformed_request", "the request could not be verified"), out);
  }
  return INLET_OK;
}

template <class T>
int32_t prepare(void* instance, const inlet_table_spec* spec, inlet_error* err) noexcept {
  try {
    TableSpec t;
    t.pipeline = std::string(view(spec->pipeline));
    t.table = std::string(view(spec->table));
    for (size_t i = 0; i < spec->column_count; ++i)
      t.columns.push_back({std::string(view(spec->columns[i].name)),
                           static_cast<inlet_column_type>(spec->columns[i].type)});
    static_cast<T*>(instance)->prepare(t);
    return INLET_OK;
  } catch (const std::exception& e) {
    setError(err, e.what());
  } catch (...) {
    setError(err, "unknown error in prepare");
  }
  return INLET_RETRY;
}

template <class T>
int32_t write(void* instance, const inlet_event* events, size_t count, inlet_error* err) noexcept {
  try {
    std::vector<Event> batch;
    batch.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const inlet_event& e = events[i];
      Event ev;
      ev.seq = e.seq;
      ev.id = view(e.id);
      ev.pipeline = view(e.pipeline);
      ev.table = view(e.table);
      ev.received_ms = e.received_ms;
      ev.provider = view(e.provider);
      ev.event_type = view(e.event_type);
      ev.delivery_id = view(e.delivery_id);
      ev.dedup_key = view(e.dedup_key);
      ev.headers_json = view(e.headers_json);
      ev.body = view(e.body);
      ev.data_json = view(e.data_json);
      ev.columns_json = view(e.columns_json);
      ev.authenticated = e.authenticated != 0;
      batch.push_back(ev);
    }
    std::string error;
    WriteResult r = static_cast<T*>(instance)->write(batch, error);
    if (r != WriteResult::Ok) setError(err, error);
    return static_cast<int32_t>(r);
  } catch (const std::exception& e) {
    setError(err, e.what());
  } catch (...) {
    setError(err, "unknown error in write");
  }
  return INLET_RETRY;
}

}  // namespace detail
}  // namespace inlet::sdk

#define INLET_DETAIL_MAGIC_EXPORT                                       \
  extern "C" INLET_EXPORT const inlet_magic* inlet_plugin_magic(void) { \
    return ::inlet::sdk::detail::magic();                               \
  }

// Exports an auth provider class. Schema: a JSON schema (object with "properties") for the
// provider's options; the host rejects unknown options before create() is called.
#define INLET_AUTH_PLUGIN(Class, Name, Version, Description, Schema)      \
  INLET_DETAIL_MAGIC_EXPORT                                               \
  extern "C" INLET_EXPORT const inlet_plugin* inlet_plugin_entry(void) {  \
    static const inlet_plugin p = {sizeof(inlet_plugin),                  \
                                   INLET_ABI_MAJOR,                       \
                                   INLET_ABI_MINOR,                       \
                                   INLET_KIND_AUTH,                       \
                                   Name,                                  \
                                   Version,                               \
                                   Description,                           \
                                   Schema,                                \
                                   &::inlet::sdk::detail::create<Class>,  \
                                   &::inlet::sdk::detail::destroy<Class>, \
                                   &::inlet::sdk::detail::verify<Class>,  \
                                   nullptr,                               \
                                   nullptr};                              \
    return &p;                                                            \
  }

#define INLET_SINK_PLUGIN(Class, Name, Version, Description, Schema)      \
  INLET_DETAIL_MAGIC_EXPORT                                               \
  extern "C" INLET_EXPORT const inlet_plugin* inlet_plugin_entry(void) {  \
    static const inlet_plugin p = {sizeof(inlet_plugin),                  \
                                   INLET_ABI_MAJOR,                       \
                                   INLET_ABI_MINOR,                       \
                                   INLET_KIND_SINK,                       \
                                   Name,                                  \
                                   Version,                               \
                                   Description,                           \
                                   Schema,                                \
                                   &::inlet::sdk::detail::create<Class>,  \
                                   &::inlet::sdk::detail::destroy<Class>, \
                                   nullptr,                               \
                                   &::inlet::sdk::detail::prepare<Class>, \
                                   &::inlet::sdk::detail::write<Class>};  \
    return &p;                                                            \
  }
