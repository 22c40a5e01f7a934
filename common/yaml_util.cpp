#include "common/yaml_util.h"

#include <cerrno>
#include <cstdlib>
#include <set>

namespace slipway::yaml {

Result<YAML::Node> parse(const std::string& text, const std::string& source) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Error(Code::kInvalidArgument,
                 source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Error error_at(const std::string& source, const YAML::Node& node, const std::string& message) {
  int line = node.Mark().line;
  return Error(
      Code::kInvalidArgument,
      source + (line >= 0 ? ":" + std::to_string(line + 1) : std::string()) + ": " + message);
}

Status check_keys(const std::string& source, const YAML::Node& node, const std::string& what,
                  std::initializer_list<const char*> allowed) {
  if (!node.IsMap()) return error_at(source, node, what + " must be a mapping");
  for (const auto& entry : node) {
    const YAML::Node name = entry.first;
    if (!name.IsScalar()) return error_at(source, name, what + " has a key that is not a name");
    const std::string key = name.Scalar();
    bool known = false;
    for (const char* allowed_key : allowed) known = known || key == allowed_key;
    if (!known) return error_at(source, name, "unknown key \"" + key + "\" in " + what);
  }
  return ok_status();
}

Result<std::string> get_string(const std::string& source, const YAML::Node& node,
                               const std::string& what) {
  if (!node.IsScalar()) return error_at(source, node, what + " must be a string");
  return node.Scalar();
}

Result<int64_t> get_int(const std::string& source, const YAML::Node& node,
                        const std::string& what) {
  if (!node.IsScalar()) return error_at(source, node, what + " must be an integer");
  const std::string& text = node.Scalar();
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0') {
    return error_at(source, node, what + " must be an integer, not \"" + text + "\"");
  }
  return static_cast<int64_t>(v);
}

Result<bool> get_bool(const std::string& source, const YAML::Node& node, const std::string& what) {
  if (node.IsScalar()) {
    const std::string& t = node.Scalar();
    if (t == "true" || t == "yes" || t == "on") return true;
    if (t == "false" || t == "no" || t == "off") return false;
  }
  return error_at(source, node, what + " must be true or false");
}

namespace {

Result<Value> to_value_bounded(const std::string& source, const YAML::Node& node, size_t* budget,
                               int depth) {
  if (*budget == 0) return error_at(source, node, "this part of the file is too large");
  --*budget;
  if (depth < 0) return error_at(source, node, "this part of the file is nested too deep");
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() != "!") {  // quoted scalars stay strings
        if (text == "true") return Value(true);
        if (text == "false") return Value(false);
        errno = 0;
        char* end = nullptr;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (!text.empty() && errno == 0 && *end == '\0') return Value(static_cast<int64_t>(v));
      }
      return Value(text);
    }
    case YAML::NodeType::Sequence: {
      Value out = Value::array();
      for (const auto& item : node) {
        SLIPWAY_ASSIGN_OR_RETURN(Value v, to_value_bounded(source, item, budget, depth - 1));
        out.push(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Value out = Value::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) return error_at(source, entry.first, "keys must be names");
        SLIPWAY_ASSIGN_OR_RETURN(Value v,
                                 to_value_bounded(source, entry.second, budget, depth - 1));
        out.set(entry.first.Scalar(), std::move(v));
      }
      return out;
    }
    default:
      return Value();
  }
}

}  // namespace

Result<Value> to_value(const std::string& source, const YAML::Node& node, size_t max_nodes,
                       int max_depth) {
  size_t budget = max_nodes;
  return to_value_bounded(source, node, &budget, max_depth);
}

}  // namespace slipway::yaml
