// Finds plugin shared objects, checks them against the host's ABI and build facts, and keeps
// them loaded for as long as any instance they created is alive.
#pragma once

#include <inlet/abi.h>

#include <boost/dll/shared_library.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace inlet::plugin {

struct Library {
  boost::dll::shared_library lib;
  const inlet_plugin* descriptor = nullptr;
  std::string file;
};

struct PluginInfo {
  std::shared_ptr<Library> library;
  inlet_plugin_kind kind = INLET_KIND_AUTH;
  std::string name, version, description, schema, file;
  uint32_t abi_major = 0, abi_minor = 0;
};

struct Refusal {
  std::string file;
  std::string reason;
};

// Loads one file. Returns the plugin, or a refusal naming the reason.
struct LoadOutcome {
  std::unique_ptr<PluginInfo> plugin;
  std::string refusal;
};
LoadOutcome loadPluginFile(const std::string& path);

class Registry {
 public:
  // Loads every *.so in each folder (not recursive). Later duplicates of a (kind, name) are
  // refused with a reason naming the file that was kept.
  void scan(const std::vector<std::string>& folders);
  const PluginInfo* find(inlet_plugin_kind kind, const std::string& name) const;
  const std::vector<PluginInfo>& plugins() const { return plugins_; }
  const std::vector<Refusal>& refusals() const { return refusals_; }
  const std::vector<std::string>& missingFolders() const { return missing_folders_; }

 private:
  std::vector<PluginInfo> plugins_;
  std::vector<Refusal> refusals_;
  std::vector<std::string> missing_folders_;
};

// The host services table handed to every instance.
const inlet_host* hostServices();

const char* kindName(inlet_plugin_kind kind);

}  // namespace inlet::plugin
