// Checks a plugin's options (YAML, with positions) against the JSON schema the plugin embeds,
// before the plugin ever sees them, and converts them to the JSON the plugin receives.
// Supported keywords: type, properties, additionalProperties(false), required, enum, items,
// default, description, minimum, maximum.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.h"

namespace inlet::config {

// Returns the options as JSON text (defaults filled in). Problems are appended to `errors`.
std::string checkOptions(const std::string& schema_json, const YAML::Node& options,
                         const std::string& file, const std::string& what,
                         std::vector<Error>& errors);

}  // namespace inlet::config
