#include "connectors/local/settings.h"

#include <cstdlib>

namespace slipway::connectors::local {
namespace {

constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

bool valid_bridge_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxInterfaceName) return false;
  // No '.': machines' network namespaces are named "slw-BRIDGE.MACHINE", so a
  // dot-free bridge name keeps one cloud's prefix from matching another's.
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

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

Result<bool> parse_bool(const Value& value) {
  if (value.is_bool()) return value.as_bool();
  const std::string& t = value.str();
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  return Error(Code::kInvalidArgument, "");
}

}  // namespace

std::string format_ipv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

Result<uint32_t> parse_ipv4(const std::string& text) {
  uint32_t out = 0;
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    size_t end = i < 3 ? text.find('.', start) : text.size();
    if (end == std::string::npos || end == start || end - start > 3) {
      return Error(Code::kInvalidArgument, "\"" + text + "\" is not an IPv4 address");
    }
    std::string part = text.substr(start, end - start);
    if (part.find_first_not_of("0123456789") != std::string::npos ||
        std::atoi(part.c_str()) > 255) {
      return Error(Code::kInvalidArgument, "\"" + text + "\" is not an IPv4 address");
    }
    out = (out << 8) | static_cast<uint32_t>(std::atoi(part.c_str()));
    start = end + 1;
  }
  return out;
}

Result<Ipv4Subnet> Ipv4Subnet::parse(const std::string& text) {
  size_t slash = text.find('/');
  const std::string bits = slash == std::string::npos ? "" : text.substr(slash + 1);
  if (slash == std::string::npos || bits.empty() || bits.size() > 2 ||
      bits.find_first_not_of("0123456789") != std::string::npos) {
    return Error(Code::kInvalidArgument,
                 "subnet \"" + text + "\" must be written ADDRESS/PREFIX, like 10.213.0.0/24");
  }
  SLIPWAY_ASSIGN_OR_RETURN(uint32_t address, parse_ipv4(text.substr(0, slash)));
  Ipv4Subnet subnet{address, std::atoi(bits.c_str())};
  if (subnet.prefix < 16 || subnet.prefix > 28) {
    return Error(Code::kInvalidArgument, "subnet " + text + " must be a /16 to a /28");
  }
  if ((address & subnet.mask()) != address) {
    Ipv4Subnet fixed{address & subnet.mask(), subnet.prefix};
    return Error(Code::kInvalidArgument,
                 "subnet " + text + " has host bits set (did you mean " + fixed.to_string() + "?)");
  }
  return subnet;
}

Result<LocalSettings> parse_local_settings(const std::string& cloud_name, const Value& settings) {
  const std::string where = "cloud " + cloud_name + ": ";
  LocalSettings out;
  if (!settings.is_null() && !settings.is_object()) {
    return Error(Code::kInvalidArgument, where + "its settings must be a mapping");
  }
  for (const auto& [key, value] : settings.fields()) {
    if (key == "bridge") {
      if (!valid_bridge_name(value.str())) {
        return Error(Code::kInvalidArgument,
                     where + "bridge must be 1 to 15 letters, digits, '-' or '_', not \"" +
                         (value.is_string() ? value.str() : value.to_json()) + "\"");
      }
      out.bridge = value.str();
    } else if (key == "subnet") {
      if (!value.is_string()) {
        return Error(Code::kInvalidArgument, where + "subnet must be a string like 10.213.0.0/24");
      }
      auto subnet = Ipv4Subnet::parse(value.str());
      if (!subnet.ok()) return subnet.error().wrap(where.substr(0, where.size() - 2));
      out.subnet = *subnet;
    } else if (key == "nat") {
      auto nat = parse_bool(value);
      if (!nat.ok()) return Error(Code::kInvalidArgument, where + "nat must be true or false");
      out.nat = *nat;
    } else if (key == "hide") {
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
    } else {
      return Error(Code::kInvalidArgument, where + "unknown setting \"" + key +
                                               "\" (the local connector knows bridge, subnet, nat "
                                               "and hide)");
    }
  }
  return out;
}

}  // namespace slipway::connectors::local
