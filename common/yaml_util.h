// The yaml-cpp adapter shared by the configuration and module loaders:
// exceptions caught, values converted with errors that carry "FILE:LINE".
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>

#include "common/status.h"
#include "common/value.h"

namespace slipway::yaml {

// Parses one YAML document; a syntax error names the line.
Result<YAML::Node> parse(const std::string& text, const std::string& source);

// "SOURCE:LINE: message" for an error about `node`.
Error error_at(const std::string& source, const YAML::Node& node, const std::string& message);

// Fails naming the first key of map `node` that is not in `allowed`.
Status check_keys(const std::string& source, const YAML::Node& node, const std::string& what,
                  std::initializer_list<const char*> allowed);

// Scalars with type checks.
Result<std::string> get_string(const std::string& source, const YAML::Node& node,
                               const std::string& what);
Result<int64_t> get_int(const std::string& source, const YAML::Node& node, const std::string& what);
Result<bool> get_bool(const std::string& source, const YAML::Node& node, const std::string& what);

// Any YAML node as a Value (scalars stay strings unless they read as
// integers or booleans). YAML aliases make a small file describe a huge
// tree, so the walk is bounded: more than `max_nodes` nodes or deeper than
// `max_depth` fails, naming the line.
Result<Value> to_value(const std::string& source, const YAML::Node& node, size_t max_nodes = 4096,
                       int max_depth = 8);

}  // namespace slipway::yaml
