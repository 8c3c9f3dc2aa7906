#include "pipeline/runtime.h"

#include "config/schema.h"
#include "util/log.h"

namespace inlet::pipeline {

inlet_column_type columnAbiType(config::ColumnConfig::Type t) {
  using T = config::ColumnConfig::Type;
  switch (t) {
    case T::Text:
      return INLET_COL_TEXT;
    case T::Integer:
      return INLET_COL_INTEGER;
    case T::Real:
      return INLET_COL_REAL;
    case T::Boolean:
      return INLET_COL_BOOLEAN;
    case T::Timestamp:
      return INLET_COL_TIMESTAMP;
    case T::Json:
      return INLET_COL_JSON;
  }
  return INLET_COL_TEXT;
}

std::unique_ptr<Runtime> buildRuntime(const config::Config& config, const BuildOptions& options,
                                      std::vector<config::Error>& errors) {
  auto rt = std::make_unique<Runtime>();
  rt->config = config;
  rt->registry.scan(config.plugin_paths);
  size_t before = errors.size();
  const std::string& file = config.file;
  for (const auto& folder : rt->registry.missingFolders())
    errors.push_back(
        {{file, 0, 0}, "plugin folder " + folder + " does not exist (build the plugins first?)"});
  for (const auto& r : rt->registry.refusals())
    log::warn("plugin refused: " + r.file + ": " + r.reason);

  // Secrets (resolved once; values never logged).
  std::map<std::string, std::string> values;
  for (const auto& [name, s] : config.secrets) {
    std::string error;
    if (auto v = config::resolveSecret(s, error))
      values[name] = *v;
    else
      errors.push_back({s.where, "secret '" + name + "': " + error});
  }

  // Sinks.
  std::map<std::string, std::string> sink_options;
  for (const auto& [name, s] : config.sinks) {
    if (s.type == config::kJournalSinkType) continue;  // the journal serves it: no plugin
    const auto* plugin = rt->registry.find(INLET_KIND_SINK, s.type);
    if (!plugin) {
      errors.push_back(
          {s.where, "sink '" + name + "': no sink plugin named '" + s.type + "' in " + [&] {
             std::string p;
             for (auto& f : config.plugin_paths) p += (p.empty() ? "" : ", ") + f;
             return p;
           }()});
      continue;
    }
    sink_options[name] =
        config::checkOptions(plugin->schema, s.options, file, "sink '" + name + "'", errors);
  }

  // Pipelines.
  for (const auto& p : config.pipelines) {
    const auto* plugin = rt->registry.find(INLET_KIND_AUTH, p.provider);
    if (!plugin) {
      errors.push_back(
          {p.auth_where, "pipeline '" + p.name + "': no auth provider named '" + p.provider + "'"});
      continue;
    }
    size_t errs = errors.size();
    std::string opts =
        config::checkOptions(plugin->schema, p.auth_options, file,
                             "pipeline '" + p.name + "' auth (" + p.provider + ")", errors);
    std::vector<std::pair<std::string, std::string>> secrets;
    for (const auto& s : p.secrets)
      if (values.count(s)) secrets.emplace_back(s, values[s]);
    if (errors.size() != errs || secrets.size() != p.secrets.size()) continue;
    try {
      auto auth = std::make_unique<plugin::AuthInstance>(*plugin, opts, secrets);
      auto pipe = std::make_unique<Pipeline>(p, std::move(auth));
      rt->by_path[p.path] = pipe.get();
      rt->by_name[p.name] = pipe.get();
      rt->pipelines.push_back(std::move(pipe));
    } catch (const std::exception& e) {
      errors.push_back({p.auth_where, "pipeline '" + p.name + "': " + e.what()});
    }
  }

  if (options.create_sinks && errors.size() == before) {
    for (const auto& [name, s] : config.sinks) {
      if (s.type == config::kJournalSinkType) continue;
      delivery::SinkSetup setup;
      setup.name = name;
      setup.retry = s.retry;
      setup.batch_size = s.batch_size;
      setup.batch_wait_ms = s.batch_wait_ms;
      for (const auto& p : config.pipelines) {
        if (std::find(p.sinks.begin(), p.sinks.end(), name) == p.sinks.end()) continue;
        delivery::TableInfo t;
        t.pipeline = p.name;
        t.table = p.table;
        for (const auto& c : p.columns) t.columns.emplace_back(c.name, columnAbiType(c.type));
        setup.tables.push_back(std::move(t));
      }
      try {
        setup.instance = std::make_unique<plugin::SinkInstance>(
            *rt->registry.find(INLET_KIND_SINK, s.type), sink_options[name]);
      } catch (const std::exception& e) {
        errors.push_back({s.where, "sink '" + name + "': " + e.what()});
        continue;
      }
      rt->sinks.push_back(std::move(setup));
    }
  }
  if (errors.size() != before) return nullptr;
  return rt;
}

}  // namespace inlet::pipeline
