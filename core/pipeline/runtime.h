// Builds the running system from a validated Config: loads plugins, checks every plugin's
// options against its schema, resolves secrets, creates auth and sink instances. `inlet check`
// runs the same code, so what check accepts is exactly what serve starts.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "delivery/delivery.h"
#include "pipeline/pipeline.h"
#include "plugin/loader.h"

namespace inlet::pipeline {

struct Runtime {
  config::Config config;
  plugin::Registry registry;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  std::map<std::string, Pipeline*> by_path;
  std::map<std::string, Pipeline*> by_name;
  std::vector<delivery::SinkSetup> sinks;  // moved into Delivery when serving
};

struct BuildOptions {
  bool create_sinks = true;
};

// Returns nullptr when anything is wrong; every problem is in `errors`.
std::unique_ptr<Runtime> buildRuntime(const config::Config& config, const BuildOptions& options,
                                      std::vector<config::Error>& errors);

inlet_column_type columnAbiType(config::ColumnConfig::Type t);

}  // namespace inlet::pipeline
