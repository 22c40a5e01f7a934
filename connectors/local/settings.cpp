#include "connectors/local/settings.h"

namespace slipway::connectors::local {
namespace {

// "/a//b/" -> "/a/b"; fails on relative paths, "." and ".." components.
Result<std::string> normalize_absolute(const std::string& path) {
  if (path.empty() || path[0] != '/') return Error(Code::kInvalidArgument, "");
  std::string out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "." || part == "..") return Error(Code::kInvalidArgument, "");
    if (!part.empty()) out += "/" + part;
    start = end + 1;
  }
  if (out.empty()) return Error(Code::kInvalidArgument, "");
  return out;
}

}  // namespace

Result<LocalSettings> parse_local_settings(const std::string& cloud_name, const Value& settings) {
  const std::string where = "cloud " + cloud_name + ": ";
  LocalSettings out;
  if (!settings.is_null() && !settings.is_object()) {
    return Error(Code::kInvalidArgument, where + "its settings must be a mapping");
  }
  for (const auto& [key, value] : settings.fields()) {
    SLIPWAY_ASSIGN_OR_RETURN(bool known, parse_bridge_setting(where, key, value, &out));
    if (known) continue;
    if (key == "hide") {
      if (!value.is_array()) {
        return Error(Code::kInvalidArgument, where + "hide must be a list of absolute paths");
      }
      for (const Value& item : value.items()) {
        auto path = normalize_absolute(item.str());
        if (!path.ok()) {
          return Error(Code::kInvalidArgument,
                       where + "hide must list absolute paths other than /, not " + item.to_json());
        }
        out.hide.push_back(*path);
      }
    } else if (key == "cpu-quota") {
      auto quota = parse_setting_bool(value);
      if (!quota.ok())
        return Error(Code::kInvalidArgument, where + "cpu-quota must be true or false");
      out.cpu_quota = *quota;
    } else {
      return Error(Code::kInvalidArgument, where + "unknown setting \"" + key +
                                               "\" (the local connector knows bridge, subnet, nat, "
                                               "hide and cpu-quota)");
    }
  }
  return out;
}

}  // namespace slipway::connectors::local
