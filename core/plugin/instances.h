// Host-side handles on plugin instances. Each holds its Library, so the code outlives the object.
#pragma once

#include <inlet/abi.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin/loader.h"

namespace inlet::plugin {

struct AuthInput {
  std::string_view method, url, target, body, remote_addr;
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;  // lower-case names
  int64_t received_ms = 0;
};

class AuthInstance {
 public:
  // Throws std::runtime_error with the plugin's message when create() fails.
  AuthInstance(const PluginInfo& plugin, const std::string& options_json,
               const std::vector<std::pair<std::string, std::string>>& secrets);
  ~AuthInstance();
  AuthInstance(const AuthInstance&) = delete;
  AuthInstance& operator=(const AuthInstance&) = delete;

  // Never throws; a plugin error becomes a 500 verdict with code provider_error.
  inlet_auth_result verify(const AuthInput& input) const;
  const std::string& name() const { return name_; }

 private:
  std::shared_ptr<Library> library_;
  void* instance_ = nullptr;
  std::string name_;
};

class SinkInstance {
 public:
  SinkInstance(const PluginInfo& plugin, const std::string& options_json);
  ~SinkInstance();
  SinkInstance(const SinkInstance&) = delete;
  SinkInstance& operator=(const SinkInstance&) = delete;

  // Returns INLET_OK, or INLET_RETRY with `error` set.
  int prepare(const inlet_table_spec& spec, std::string& error);
  int write(const std::vector<inlet_event>& events, std::string& error);
  const std::string& type() const { return type_; }

 private:
  std::shared_ptr<Library> library_;
  void* instance_ = nullptr;
  std::string type_;
};

}  // namespace inlet::plugin
