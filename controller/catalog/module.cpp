#include "controller/catalog/module.h"

#include <algorithm>
#include <set>

#include "common/yaml_util.h"

namespace slipway::controller {

const BuiltinParameter* builtin_parameter(std::string_view name) {
  for (const auto& p : kBuiltinParameters) {
    if (p.name == name) return &p;
  }
  return nullptr;
}
namespace {

bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Collects the error of a parse in progress.
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Result<Module> parse(const YAML::Node& root) {
    Module m;
    m.source = source_;
    if (!root.IsMap()) return error(root, "a module must be a mapping with kind and name");
    const YAML::Node kind = root["kind"];
    if (!kind) return error(root, "the module has no kind (image or deployment)");
    SLIPWAY_ASSIGN_OR_RETURN(std::string kind_text, yaml::get_string(source_, kind, "kind"));
    if (kind_text == "image") {
      m.kind = ModuleKind::kImage;
      SLIPWAY_RETURN_IF_ERROR(
          yaml::check_keys(source_, root, "an image module",
                           {"kind", "name", "description", "parent", "platform", "packages",
                            "scripts", "parameters", "resources", "reference"}));
    } else if (kind_text == "deployment") {
      m.kind = ModuleKind::kDeployment;
      SLIPWAY_RETURN_IF_ERROR(yaml::check_keys(source_, root, "a deployment module",
                                               {"kind", "name", "description", "nodes"}));
    } else {
      return error(kind, "kind must be image or deployment, not \"" + kind_text + "\"");
    }

    const YAML::Node name = root["name"];
    if (!name) return error(root, "the module has no name");
    SLIPWAY_ASSIGN_OR_RETURN(m.name, yaml::get_string(source_, name, "name"));
    if (!valid_module_name(m.name)) {
      return error(name, "\"" + m.name +
                             "\" is not a module name: use segments of a-z, 0-9, '.', '_' and '-' "
                             "joined by '/', like examples/lamp/db");
    }
    if (root["description"]) {
      SLIPWAY_ASSIGN_OR_RETURN(m.description,
                               yaml::get_string(source_, root["description"], "description"));
    }
    if (m.kind == ModuleKind::kImage) {
      SLIPWAY_RETURN_IF_ERROR(parse_image(root, &m));
    } else {
      SLIPWAY_RETURN_IF_ERROR(parse_deployment(root, &m));
    }
    return m;
  }

 private:
  Error error(const YAML::Node& node, const std::string& message) {
    return yaml::error_at(source_, node, message);
  }

  Result<std::vector<std::string>> string_list(const YAML::Node& node, const std::string& what) {
    if (!node.IsSequence()) return error(node, what + " must be a list");
    std::vector<std::string> out;
    for (const auto& item : node) {
      if (!item.IsScalar()) return error(item, what + " must be a list of names");
      out.push_back(item.Scalar());
    }
    return out;
  }

  Status parse_image(const YAML::Node& root, Module* m) {
    ImageDefinition& image = m->image;
    if (root["parent"]) {
      SLIPWAY_ASSIGN_OR_RETURN(image.parent, yaml::get_string(source_, root["parent"], "parent"));
      auto parent = split_reference(image.parent);
      if (!parent.ok()) return error(root["parent"], "parent " + parent.error().message());
      if (parent->name == m->name)
        return error(root["parent"], "an image cannot be its own parent");
      m->parent_line = root["parent"].Mark().line + 1;
    }
    if (root["platform"]) {
      if (!image.parent.empty()) {
        return error(
            root["platform"],
            "platform belongs to reference images; this one inherits it from " + image.parent);
      }
      SLIPWAY_ASSIGN_OR_RETURN(image.platform,
                               yaml::get_string(source_, root["platform"], "platform"));
      static const std::set<std::string> kPlatforms = {"debian", "ubuntu", "alpine",
                                                       "fedora", "centos", "busybox"};
      if (!kPlatforms.count(image.platform)) {
        return error(root["platform"],
                     "platform must be one of debian, ubuntu, alpine, fedora, "
                     "centos, busybox; not \"" +
                         image.platform + "\"");
      }
    }
    if (root["reference"]) {
      const YAML::Node ref = root["reference"];
      if (!image.parent.empty()) {
        return error(ref,
                     "reference belongs to reference images; a derived image boots its parent's");
      }
      if (!ref.IsMap())
        return error(ref, "reference must map connector types to what machines boot from");
      for (const auto& entry : ref) {
        const YAML::Node connector = entry.first;
        const YAML::Node settings = entry.second;
        if (!connector.IsScalar()) return error(connector, "reference keys are connector types");
        if (!settings.IsMap()) {
          return error(settings, "reference for " + connector.Scalar() + " must be a mapping");
        }
      }
      SLIPWAY_ASSIGN_OR_RETURN(image.reference, yaml::to_value(source_, ref, 1024, 6));
    }
    if (image.parent.empty()) {
      if (!root["reference"]) {
        return error(root,
                     "a reference image (one with no parent) needs a reference saying what "
                     "machines boot from on each cloud");
      }
      if (image.platform.empty()) {
        return error(root,
                     "a reference image needs a platform (debian, ubuntu, alpine, fedora, "
                     "centos or busybox)");
      }
    }
    if (root["packages"]) {
      SLIPWAY_ASSIGN_OR_RETURN(image.packages, string_list(root["packages"], "packages"));
      if (image.packages.size() > kMaxPackages) {
        return error(root["packages"],
                     "an image may list at most " + std::to_string(kMaxPackages) + " packages");
      }
      for (const auto& p : image.packages) {
        bool ok = !p.empty() && p.size() <= 128 && p[0] != '-' &&
                  std::all_of(p.begin(), p.end(), [](char c) {
                    return lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '+' ||
                           c == '-' || c == '_' || c == ':' || c == '=' || c == '~';
                  });
        if (!ok) return error(root["packages"], "\"" + p + "\" is not a package name");
      }
    }
    if (root["scripts"]) {
      const YAML::Node scripts = root["scripts"];
      SLIPWAY_RETURN_IF_ERROR(
          yaml::check_keys(source_, scripts, "scripts",
                           {"pre-install", "post-install", "deployment", "report", "on-scale"}));
      for (const auto& entry : scripts) {
        const std::string phase = entry.first.Scalar();
        const YAML::Node body = entry.second;
        if (body.IsNull()) continue;
        SLIPWAY_ASSIGN_OR_RETURN(std::string text,
                                 yaml::get_string(source_, body, "script " + phase));
        if (!text.empty()) image.scripts[phase] = text;
      }
    }
    if (root["parameters"]) {
      const YAML::Node params = root["parameters"];
      SLIPWAY_RETURN_IF_ERROR(
          yaml::check_keys(source_, params, "parameters", {"inputs", "outputs"}));
      std::set<std::string> seen;
      if (params["inputs"]) {
        const YAML::Node inputs = params["inputs"];
        if (!inputs.IsMap())
          return error(inputs, "parameters.inputs must map names to {default: ...}");
        for (const auto& entry : inputs) {
          InputParameter input;
          input.name = entry.first.Scalar();
          if (!valid_parameter_name(input.name))
            return error(entry.first, "\"" + input.name + "\" is not a parameter name");
          if (builtin_parameter(input.name))
            return error(entry.first, input.name + " is a built-in parameter");
          const YAML::Node body = entry.second;
          if (!body.IsNull()) {
            SLIPWAY_RETURN_IF_ERROR(
                yaml::check_keys(source_, body, "input " + input.name, {"default", "description"}));
            if (body["default"]) {
              SLIPWAY_ASSIGN_OR_RETURN(std::string d, yaml::get_string(source_, body["default"],
                                                                       "default of " + input.name));
              input.default_value = d;
            }
            if (body["description"]) {
              SLIPWAY_ASSIGN_OR_RETURN(
                  input.description, yaml::get_string(source_, body["description"], "description"));
            }
          }
          seen.insert(input.name);
          image.inputs.push_back(std::move(input));
          if (image.inputs.size() > kMaxParameters) {
            return error(inputs, "an image may declare at most " + std::to_string(kMaxParameters) +
                                     " inputs");
          }
        }
      }
      if (params["outputs"]) {
        SLIPWAY_ASSIGN_OR_RETURN(image.outputs,
                                 string_list(params["outputs"], "parameters.outputs"));
        if (image.outputs.size() > kMaxParameters) {
          return error(params["outputs"], "an image may declare at most " +
                                              std::to_string(kMaxParameters) + " outputs");
        }
        for (const auto& o : image.outputs) {
          if (!valid_parameter_name(o))
            return error(params["outputs"], "\"" + o + "\" is not a parameter name");
          if (builtin_parameter(o)) return error(params["outputs"], o + " is a built-in parameter");
          if (!seen.insert(o).second)
            return error(params["outputs"], o + " is both an input and an output, or listed twice");
        }
      }
    }
    if (root["resources"]) {
      const YAML::Node res = root["resources"];
      SLIPWAY_RETURN_IF_ERROR(
          yaml::check_keys(source_, res, "resources", {"cpus", "memory_mb", "disk_gb"}));
      auto positive = [&](const char* key, std::optional<int64_t>* out, int64_t max) -> Status {
        if (!res[key]) return ok_status();
        SLIPWAY_ASSIGN_OR_RETURN(int64_t v, yaml::get_int(source_, res[key], key));
        if (v < 1 || v > max)
          return error(res[key],
                       std::string(key) + " must be between 1 and " + std::to_string(max));
        *out = v;
        return ok_status();
      };
      SLIPWAY_RETURN_IF_ERROR(positive("cpus", &image.cpus, 256));
      SLIPWAY_RETURN_IF_ERROR(positive("memory_mb", &image.memory_mb, 1 << 20));
      SLIPWAY_RETURN_IF_ERROR(positive("disk_gb", &image.disk_gb, 1 << 16));
    }
    return ok_status();
  }

  Status parse_deployment(const YAML::Node& root, Module* m) {
    const YAML::Node nodes = root["nodes"];
    if (!nodes) return error(root, "a deployment module needs nodes");
    if (!nodes.IsMap() || nodes.size() == 0)
      return error(nodes, "nodes must map node names to nodes");
    for (const auto& entry : nodes) {
      NodeDefinition node;
      node.name = entry.first.Scalar();
      node.line = entry.first.Mark().line + 1;
      if (!valid_node_name(node.name)) {
        return error(entry.first, "\"" + node.name +
                                      "\" is not a node name: a lower-case letter, "
                                      "then letters, digits, '_' or '-'");
      }
      if (m->node(node.name) != nullptr)
        return error(entry.first, "node " + node.name + " is defined twice");
      const YAML::Node body = entry.second;
      SLIPWAY_RETURN_IF_ERROR(yaml::check_keys(
          source_, body, "node " + node.name,
          {"image", "multiplicity", "cloud", "max-provisioning-failures", "inputs"}));
      if (!body["image"]) return error(body, "node " + node.name + " has no image");
      SLIPWAY_ASSIGN_OR_RETURN(node.image, yaml::get_string(source_, body["image"], "image"));
      if (auto image = split_reference(node.image); !image.ok())
        return error(body["image"], "image " + image.error().message());
      if (body["multiplicity"]) {
        SLIPWAY_ASSIGN_OR_RETURN(node.multiplicity,
                                 yaml::get_int(source_, body["multiplicity"], "multiplicity"));
        if (node.multiplicity < 1 || node.multiplicity > 1000) {
          return error(body["multiplicity"], "multiplicity must be between 1 and 1000");
        }
      }
      if (body["cloud"]) {
        SLIPWAY_ASSIGN_OR_RETURN(node.cloud, yaml::get_string(source_, body["cloud"], "cloud"));
      }
      if (body["max-provisioning-failures"]) {
        SLIPWAY_ASSIGN_OR_RETURN(
            node.max_provisioning_failures,
            yaml::get_int(source_, body["max-provisioning-failures"], "max-provisioning-failures"));
        if (node.max_provisioning_failures < 0 ||
            node.max_provisioning_failures >= node.multiplicity) {
          return error(
              body["max-provisioning-failures"],
              "max-provisioning-failures must be at least 0 and less than the multiplicity (" +
                  std::to_string(node.multiplicity) + ")");
        }
      }
      if (body["inputs"]) {
        const YAML::Node inputs = body["inputs"];
        if (!inputs.IsMap())
          return error(inputs, "inputs must map input names to NODE:OUTPUT or 'literal'");
        for (const auto& input : inputs) {
          const std::string name = input.first.Scalar();
          if (!valid_parameter_name(name))
            return error(input.first, "\"" + name + "\" is not a parameter name");
          SLIPWAY_ASSIGN_OR_RETURN(std::string text,
                                   yaml::get_string(source_, input.second, "input " + name));
          InputBinding binding;
          binding.line = input.second.Mark().line + 1;
          SLIPWAY_RETURN_IF_ERROR(parse_binding(input.second, name, text, &binding));
          node.inputs[name] = binding;
        }
      }
      m->nodes.push_back(std::move(node));
      if (m->nodes.size() > kMaxNodes) {
        return error(nodes,
                     "a deployment may have at most " + std::to_string(kMaxNodes) + " nodes");
      }
    }
    return ok_status();
  }

  Status parse_binding(const YAML::Node& where, const std::string& name, const std::string& text,
                       InputBinding* binding) {
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
      binding->literal = true;
      binding->value = text.substr(1, text.size() - 2);
      return ok_status();
    }
    size_t colon = text.find(':');
    if (colon == std::string::npos) {
      return error(where, "input " + name + ": write a literal in single quotes ('" + text +
                              "'), or map it to NODE:OUTPUT");
    }
    std::string left = text.substr(0, colon);
    binding->parameter = text.substr(colon + 1);
    size_t dot = left.find('.');
    binding->node = left.substr(0, dot);
    if (dot != std::string::npos) binding->instance = left.substr(dot + 1);
    // At most 4 digits: multiplicity is at most 1000.
    bool instance_ok = binding->instance.empty() ||
                       (binding->instance.size() <= 4 &&
                        binding->instance.find_first_not_of("0123456789") == std::string::npos &&
                        binding->instance[0] != '0');
    if (!valid_node_name(binding->node) || !instance_ok ||
        !valid_parameter_name(binding->parameter)) {
      return error(where,
                   "input " + name + ": \"" + text + "\" is not NODE:OUTPUT or NODE.N:OUTPUT");
    }
    return ok_status();
  }

  std::string source_;
};

}  // namespace

const NodeDefinition* Module::node(const std::string& node_name) const {
  for (const auto& n : nodes) {
    if (n.name == node_name) return &n;
  }
  return nullptr;
}

Value Module::canonical() const {
  Value v = Value::object()
                .set("kind", kind == ModuleKind::kImage ? "image" : "deployment")
                .set("name", name)
                .set("description", description);
  if (kind == ModuleKind::kImage) {
    Value packages = Value::array();
    for (const auto& p : image.packages) packages.push(p);
    Value scripts = Value::object();
    for (const auto& [phase, body] : image.scripts) scripts.set(phase, body);
    Value inputs = Value::array();
    for (const auto& in : image.inputs) {
      inputs.push(Value::object()
                      .set("name", in.name)
                      .set("default", in.default_value ? Value(*in.default_value) : Value())
                      .set("description", in.description));
    }
    Value outputs = Value::array();
    for (const auto& o : image.outputs) outputs.push(o);
    auto opt = [](const std::optional<int64_t>& x) { return x ? Value(*x) : Value(); };
    v.set("parent", image.parent)
        .set("platform", image.platform)
        .set("packages", packages)
        .set("scripts", scripts)
        .set("inputs", inputs)
        .set("outputs", outputs)
        .set("resources", Value::object()
                              .set("cpus", opt(image.cpus))
                              .set("memory_mb", opt(image.memory_mb))
                              .set("disk_gb", opt(image.disk_gb)))
        .set("reference", image.reference);
  } else {
    Value list = Value::array();
    for (const auto& n : nodes) {
      Value inputs = Value::object();
      for (const auto& [in, b] : n.inputs) {
        inputs.set(in, b.literal ? "'" + b.value + "'"
                                 : b.node + (b.instance.empty() ? "" : "." + b.instance) + ":" +
                                       b.parameter);
      }
      list.push(Value::object()
                    .set("name", n.name)
                    .set("image", n.image)
                    .set("multiplicity", n.multiplicity)
                    .set("cloud", n.cloud)
                    .set("max_provisioning_failures", n.max_provisioning_failures)
                    .set("inputs", inputs));
    }
    v.set("nodes", list);
  }
  return v;
}

Result<Module> parse_module(const std::string& text, const std::string& source) {
  if (text.size() > (256 << 10)) {
    return Error(Code::kInvalidArgument, source + ": a module file may hold at most 256 KiB");
  }
  SLIPWAY_ASSIGN_OR_RETURN(YAML::Node root, yaml::parse(text, source));
  try {
    return Parser(source).parse(root);
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument,
                 source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

bool valid_module_name(const std::string& name) {
  if (name.empty() || name.size() > 200) return false;
  size_t start = 0;
  int segments = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string seg = name.substr(start, end - start);
    if (seg.empty() || !lower_alnum(seg[0])) return false;
    for (char c : seg) {
      if (!lower_alnum(c) && c != '.' && c != '_' && c != '-') return false;
    }
    if (++segments > 8) return false;
    start = end + 1;
  }
  return true;
}

bool valid_node_name(const std::string& name) {
  if (name.empty() || name.size() > 48 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return lower_alnum(c) || c == '_' || c == '-'; });
}

bool valid_parameter_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-';
  });
}

Result<ModuleRef> split_reference(const std::string& reference) {
  const Error malformed(Code::kInvalidArgument,
                        "\"" + reference + "\" is not NAME or NAME@VERSION");
  size_t at = reference.find('@');
  ModuleRef ref{reference.substr(0, at), 0};
  if (!valid_module_name(ref.name)) return malformed;
  if (at == std::string::npos) return ref;
  std::string digits = reference.substr(at + 1);
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos || digits[0] == '0') {
    return malformed;
  }
  ref.version = std::stoll(digits);
  return ref;
}

}  // namespace slipway::controller
