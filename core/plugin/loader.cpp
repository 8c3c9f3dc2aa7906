#include "plugin/loader.h"

#include <openssl/opensslv.h>

#include <algorithm>
#include <filesystem>

#include "config/config.h"
#include "util/ids.h"
#include "util/log.h"

namespace inlet::plugin {

namespace fs = std::filesystem;

const char* kindName(inlet_plugin_kind kind) {
  switch (kind) {
    case INLET_KIND_AUTH:
      return "auth";
    case INLET_KIND_SINK:
      return "sink";
  }
  return "unknown";
}

namespace {

void hostLog(void*, inlet_log_level level, inlet_str message) {
  log::write(static_cast<log::Level>(std::clamp(static_cast<int>(level), 0, 3)),
             std::string_view(message.ptr ? message.ptr : "", message.len));
}
int64_t hostNow(void*) { return util::nowMs(); }

constexpr size_t kMagicV1 = offsetof(inlet_magic, pointer_size) + sizeof(uint32_t);
constexpr size_t kPluginV1 = offsetof(inlet_plugin, write) + sizeof(void*);

}  // namespace

const inlet_host* hostServices() {
  static const inlet_host host = {sizeof(inlet_host), nullptr, &hostLog, &hostNow};
  return &host;
}

LoadOutcome loadPluginFile(const std::string& path) {
  LoadOutcome out;
  auto lib = std::make_shared<Library>();
  lib->file = path;
  std::error_code ec;  // BOOST_DLL_USE_STD_FS: std types, no boost_filesystem
  // rtld_local: one plugin's symbols never satisfy another's; rtld_now: a missing symbol is a
  // load-time refusal here, not a crash in the middle of a request.
  lib->lib.load(path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (ec) {
    out.refusal = "cannot be loaded: " + ec.message();
    return out;
  }
  if (!lib->lib.has("inlet_plugin_magic")) {
    out.refusal =
        "missing entry point inlet_plugin_magic (not an Inlet plugin, or built without the SDK)";
    return out;
  }
  auto magic_fn = lib->lib.get<const inlet_magic*()>("inlet_plugin_magic");
  const inlet_magic* magic = magic_fn();
  if (!magic || magic->size < kMagicV1 || magic->tag != INLET_MAGIC_TAG) {
    out.refusal = "invalid magic block";
    return out;
  }
  if (magic->abi_major != INLET_ABI_MAJOR) {
    out.refusal = "built for plugin ABI major " + std::to_string(magic->abi_major) +
                  ", this host speaks " + std::to_string(INLET_ABI_MAJOR);
    return out;
  }
  if (magic->abi_minor > INLET_ABI_MINOR) {
    out.refusal = "built for a newer plugin ABI (" + std::to_string(magic->abi_major) + "." +
                  std::to_string(magic->abi_minor) + ") than this host (" +
                  std::to_string(INLET_ABI_MAJOR) + "." + std::to_string(INLET_ABI_MINOR) +
                  "); upgrade inlet";
    return out;
  }
#ifdef __GXX_ABI_VERSION
  if (magic->cxx_abi != static_cast<uint32_t>(__GXX_ABI_VERSION)) {
    out.refusal = "C++ ABI mismatch: plugin " + std::to_string(magic->cxx_abi) + ", host " +
                  std::to_string(__GXX_ABI_VERSION);
    return out;
  }
#endif
  if (magic->openssl_major != 0 &&
      magic->openssl_major != static_cast<uint32_t>(OPENSSL_VERSION_MAJOR)) {
    out.refusal = "OpenSSL major mismatch: plugin " + std::to_string(magic->openssl_major) +
                  ", host " + std::to_string(OPENSSL_VERSION_MAJOR);
    return out;
  }
  if (magic->pointer_size != sizeof(void*)) {
    out.refusal = "pointer size mismatch";
    return out;
  }
  if (!lib->lib.has("inlet_plugin_entry")) {
    out.refusal = "missing entry point inlet_plugin_entry";
    return out;
  }
  const inlet_plugin* d = lib->lib.get<const inlet_plugin*()>("inlet_plugin_entry")();
  if (!d || d->size < kPluginV1) {
    out.refusal = "plugin descriptor is missing or too small";
    return out;
  }
  if (d->abi_major != magic->abi_major || d->abi_minor != magic->abi_minor) {
    out.refusal = "plugin descriptor and magic block disagree on the ABI version";
    return out;
  }
  if (!d->name || !*d->name || !d->create || !d->destroy) {
    out.refusal = "plugin descriptor lacks a name, create or destroy";
    return out;
  }
  if (d->kind == INLET_KIND_AUTH) {
    if (!d->verify) {
      out.refusal = "auth plugin without verify()";
      return out;
    }
  } else if (d->kind == INLET_KIND_SINK) {
    if (!d->prepare || !d->write) {
      out.refusal = "sink plugin without prepare() or write()";
      return out;
    }
    if (std::string_view(d->name) == config::kJournalSinkType) {
      out.refusal =
          "sink plugin 'journal' takes the name of the host's own sink type (the "
          "journal's tables); rename it";
      return out;
    }
  } else {
    out.refusal = "unknown plugin kind " + std::to_string(d->kind);
    return out;
  }
  lib->descriptor = d;
  auto info = std::make_unique<PluginInfo>();
  info->library = lib;
  info->kind = static_cast<inlet_plugin_kind>(d->kind);
  info->name = d->name;
  info->version = d->version ? d->version : "";
  info->description = d->description ? d->description : "";
  info->schema = d->config_schema ? d->config_schema : "";
  info->file = path;
  info->abi_major = d->abi_major;
  info->abi_minor = d->abi_minor;
  out.plugin = std::move(info);
  return out;
}

void Registry::scan(const std::vector<std::string>& folders) {
  for (const auto& folder : folders) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) {
      missing_folders_.push_back(folder);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      if (entry.is_regular_file() && entry.path().extension() == ".so")
        files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      auto outcome = loadPluginFile(f);
      if (!outcome.plugin) {
        refusals_.push_back({f, outcome.refusal});
        continue;
      }
      if (const auto* existing = find(outcome.plugin->kind, outcome.plugin->name)) {
        refusals_.push_back({f, std::string(kindName(outcome.plugin->kind)) + " plugin '" +
                                    outcome.plugin->name + "' is already provided by " +
                                    existing->file});
        continue;
      }
      plugins_.push_back(std::move(*outcome.plugin));
    }
  }
}

const PluginInfo* Registry::find(inlet_plugin_kind kind, const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.kind == kind && p.name == name) return &p;
  return nullptr;
}

}  // namespace inlet::plugin
