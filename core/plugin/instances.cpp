#include "plugin/instances.h"

#include <cstring>
#include <stdexcept>

namespace inlet::plugin {

namespace {
inlet_str s(std::string_view v) { return {v.data(), v.size()}; }

void* createInstance(const PluginInfo& plugin, const std::string& options_json,
                     const std::vector<std::pair<std::string, std::string>>& secrets) {
  std::vector<inlet_secret> cs;
  cs.reserve(secrets.size());
  for (const auto& [name, value] : secrets) cs.push_back({s(name), s(value)});
  inlet_error err{};
  err.size = sizeof err;
  void* instance = nullptr;
  int32_t rc = plugin.library->descriptor->create(hostServices(), s(options_json), cs.data(),
                                                  cs.size(), &instance, &err);
  if (rc != INLET_OK || !instance) {
    err.message[sizeof err.message - 1] = '\0';
    throw std::runtime_error(plugin.name + ": " +
                             (err.message[0] ? err.message : "create() failed"));
  }
  return instance;
}
}  // namespace

AuthInstance::AuthInstance(const PluginInfo& plugin, const std::string& options_json,
                           const std::vector<std::pair<std::string, std::string>>& secrets)
    : library_(plugin.library), name_(plugin.name) {
  instance_ = createInstance(plugin, options_json, secrets);
}

AuthInstance::~AuthInstance() {
  if (instance_) library_->descriptor->destroy(instance_);
}

inlet_auth_result AuthInstance::verify(const AuthInput& in) const {
  thread_local std::vector<inlet_header> headers;
  headers.clear();
  if (in.headers)
    for (const auto& [n, v] : *in.headers) headers.push_back({s(n), s(v)});
  inlet_auth_request req{};
  req.size = sizeof req;
  req.method = s(in.method);
  req.url = s(in.url);
  req.target = s(in.target);
  req.headers = headers.data();
  req.header_count = headers.size();
  req.body = s(in.body);
  req.received_ms = in.received_ms;
  req.remote_addr = s(in.remote_addr);
  inlet_auth_result result{};
  result.size = sizeof result;
  result.verdict = INLET_REJECT;
  result.http_status = 401;
  int32_t rc = library_->descriptor->verify(instance_, &req, &result);
  // Buffers come back from another module: never trust their termination.
  result.code[sizeof result.code - 1] = '\0';
  result.message[sizeof result.message - 1] = '\0';
  result.detail[sizeof result.detail - 1] = '\0';
  result.delivery_id[sizeof result.delivery_id - 1] = '\0';
  result.event_type[sizeof result.event_type - 1] = '\0';
  result.response_content_type[sizeof result.response_content_type - 1] = '\0';
  result.response_body[sizeof result.response_body - 1] = '\0';
  // A verdict the host does not know is a failure of the provider, never an acceptance.
  const bool known = result.verdict == INLET_REJECT || result.verdict == INLET_ACCEPT ||
                     result.verdict == INLET_RESPOND;
  if (rc != INLET_OK || !known) {
    result.verdict = INLET_REJECT;
    result.http_status = 500;
    std::strcpy(result.code, "provider_error");
    std::strcpy(result.message, "the auth provider failed");
  }
  if (result.verdict == INLET_REJECT) {
    if (result.http_status < 400 || result.http_status > 599) result.http_status = 401;
    if (!result.code[0]) std::strcpy(result.code, "rejected");
  }
  return result;
}

SinkInstance::SinkInstance(const PluginInfo& plugin, const std::string& options_json)
    : library_(plugin.library), type_(plugin.name) {
  instance_ = createInstance(plugin, options_json, {});
}

SinkInstance::~SinkInstance() {
  if (instance_) library_->descriptor->destroy(instance_);
}

int SinkInstance::prepare(const inlet_table_spec& spec, std::string& error) {
  inlet_error err{};
  err.size = sizeof err;
  int rc = library_->descriptor->prepare(instance_, &spec, &err);
  err.message[sizeof err.message - 1] = '\0';
  if (rc != INLET_OK) error = err.message[0] ? err.message : "prepare failed";
  return rc == INLET_OK ? INLET_OK : INLET_RETRY;
}

int SinkInstance::write(const std::vector<inlet_event>& events, std::string& error) {
  inlet_error err{};
  err.size = sizeof err;
  int rc = library_->descriptor->write(instance_, events.data(), events.size(), &err);
  err.message[sizeof err.message - 1] = '\0';
  if (rc != INLET_OK) error = err.message[0] ? err.message : "write failed";
  if (rc != INLET_OK && rc != INLET_RETRY && rc != INLET_DROP) rc = INLET_RETRY;
  return rc;
}

}  // namespace inlet::plugin
