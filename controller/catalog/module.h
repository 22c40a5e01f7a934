// Modules: image and deployment definitions written in YAML (SPEC section 2).
//
// parse_module() checks one document on its own: keys, types, names, values.
// What needs other modules (a parent that exists, a mapping to an output that
// exists, cycles) is checked by the Catalog when a set of modules is pushed.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace slipway::controller {

enum class ModuleKind { kImage, kDeployment };

// The script phases an image may define, in the order they run.
inline constexpr const char* kScriptPhases[] = {"pre-install", "post-install", "deployment",
                                                "report", "on-scale"};

// The runtime parameters every instance has (SPEC section 4), in one table:
// who may set each, and what it holds when the instance is made. Mappings
// may name them like outputs; modules may not declare them.
struct BuiltinParameter {
  std::string_view name;
  // Set by the controller alone: an instance's ss-set and `slipway set`
  // are refused.
  bool controller_owned;
  // Its value when the instance is made; nullopt leaves it unset, so a get
  // waits. (instanceid is made with the machine's id instead.)
  std::optional<std::string_view> initial;
};
inline constexpr BuiltinParameter kBuiltinParameters[] = {
    {"hostname", true, std::nullopt},  // the address, once the machine is up
    {"instanceid", true, std::nullopt},
    {"vmstate", true, "pending"},
    {"statecustom", false, ""},  // ss-display
    {"abort", true, ""},
    {"complete", true, ""},
};
// The built-in parameter called `name`, or nullptr.
const BuiltinParameter* builtin_parameter(std::string_view name);
// Whether only the controller may set the instance parameter `name`.
inline bool is_controller_owned(std::string_view name) {
  const BuiltinParameter* p = builtin_parameter(name);
  return p != nullptr && p->controller_owned;
}
// Parameters of a node rather than an instance: "web:multiplicity", "web:ids".
inline constexpr const char* kNodeParameters[] = {"multiplicity", "ids"};

// Bounds on one module, so that what a deployment stores of it stays small.
inline constexpr size_t kMaxPackages = 1024;
inline constexpr size_t kMaxParameters = 256;  // inputs, and outputs
inline constexpr size_t kMaxNodes = 128;
// Instances of all nodes of one deployment together.
inline constexpr int64_t kMaxInstances = 1000;

struct InputParameter {
  std::string name;
  std::optional<std::string> default_value;
  std::string description;
};

struct ImageDefinition {
  std::string parent;    // "" for a reference image; "NAME" or "NAME@N"
  std::string platform;  // reference images only
  std::vector<std::string> packages;
  std::map<std::string, std::string> scripts;  // phase -> body
  std::vector<InputParameter> inputs;
  std::vector<std::string> outputs;
  std::optional<int64_t> cpus, memory_mb, disk_gb;
  Value reference;  // connector type -> what the machine boots from (reference images)
};

// How a deployment fills one input of a node.
struct InputBinding {
  bool literal = false;
  std::string value;     // the literal text, when literal
  std::string node;      // the node mapped to, when not literal
  std::string instance;  // "" for the node's first instance (web:port), or "2" (web.2:port)
  // The instance number, 1 when `instance` is empty (at most 4 digits).
  int64_t instance_number() const { return instance.empty() ? 1 : std::atoll(instance.c_str()); }
  std::string parameter;
  int line = 0;
};

struct NodeDefinition {
  std::string name;
  std::string image;  // "NAME" or "NAME@N"
  int64_t multiplicity = 1;
  std::string cloud;  // "" for the deployment's cloud
  int64_t max_provisioning_failures = 0;
  std::map<std::string, InputBinding> inputs;
  int line = 0;
};

struct Module {
  ModuleKind kind = ModuleKind::kImage;
  std::string name;
  std::string description;
  ImageDefinition image;              // kind image
  std::vector<NodeDefinition> nodes;  // kind deployment, in file order
  std::string source;                 // "FILE" for error messages
  int parent_line = 0;

  bool is_reference() const { return kind == ModuleKind::kImage && image.parent.empty(); }
  const NodeDefinition* node(const std::string& node_name) const;
  // The module's content as a Value, in a fixed order: what versions compare.
  Value canonical() const;
};

// Parses and checks one module document. Errors read "SOURCE:LINE: what".
Result<Module> parse_module(const std::string& text, const std::string& source);

// Module names: segments of [a-z0-9][a-z0-9._-]* joined by '/'.
bool valid_module_name(const std::string& name);
// Node names: [a-z][a-z0-9_-]* (no dots: "web.2" names an instance).
bool valid_node_name(const std::string& name);
// Parameter names: [A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters.
bool valid_parameter_name(const std::string& name);

// A module named with an optional version: "NAME" (the latest, version 0)
// or "NAME@N".
struct ModuleRef {
  std::string name;
  int64_t version = 0;
};
// Splits "NAME@N"; kInvalidArgument, '"X" is not NAME or NAME@VERSION',
// when malformed.
Result<ModuleRef> split_reference(const std::string& reference);

}  // namespace slipway::controller
