#include "connectors/common/bridge_network.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <sstream>

#include "common/fs.h"
#include "connectors/common/command.h"

namespace slipway::connectors {
namespace {

constexpr std::chrono::seconds kToolTimeout{30};
constexpr size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1

bool valid_bridge_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxInterfaceName) return false;
  // No '.': the local cloud names machines' network namespaces
  // "slw-BRIDGE.MACHINE", so a dot-free bridge name keeps one cloud's prefix
  // from matching another's.
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

// Another interface with an address in our subnet would make the host route
// the machines' traffic (or the other interface's) the wrong way.
Status check_subnet_free(const BridgeNetwork& settings) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return ok_status();  // nothing to compare against
  Status status;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    if (settings.bridge == i->ifa_name) continue;
    uint32_t address = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    if (settings.subnet.contains(address)) {
      status = Error(Code::kFailedPrecondition,
                     "subnet " + settings.subnet.to_string() + " is already used by interface " +
                         i->ifa_name + " (" + format_ipv4(address) + "): choose another subnet");
      break;
    }
  }
  ::freeifaddrs(list);
  return status;
}

Status prepare_bridge(const BridgeNetwork& settings, const NetworkTools& tools) {
  const std::string& br = settings.bridge;
  const std::string address =
      format_ipv4(settings.subnet.bridge_address()) + "/" + std::to_string(settings.subnet.prefix);
  std::string batch;
  if (!interface_exists(br)) {
    batch += "link add " + br + " address " + mac_for(settings.subnet.bridge_address()) +
             " type bridge\n";
  } else if (!fs::exists("/sys/class/net/" + br + "/bridge")) {
    return Error(Code::kFailedPrecondition,
                 "interface " + br + " exists and is not a bridge: choose another bridge name");
  }
  batch += "addr replace " + address + " dev " + br + "\nlink set " + br + " up\n";
  return run_checked({tools.ip, "-batch", "-"}, batch, kToolTimeout, "cannot set up bridge " + br);
}

Status enable_forwarding() {
  const std::string path = "/proc/sys/net/ipv4/ip_forward";
  auto current = fs::read_file(path, 16);
  if (current.ok() && current->rfind("1", 0) == 0) return ok_status();
  if (Status s = fs::write_kernel_file(path, "1\n"); !s.ok()) {
    return s.error().wrap("cannot enable IPv4 forwarding");
  }
  return ok_status();
}

// Creating the table first makes the delete valid whether or not it existed,
// so the whole file is one atomic replace.
std::string nft_script(const BridgeNetwork& settings) {
  const std::string table = nft_table_name(settings.bridge);
  const std::string subnet = settings.subnet.to_string();
  const std::string br = "\"" + settings.bridge + "\"";
  std::string script = "table ip " + table + "\ndelete table ip " + table + "\n";
  if (!settings.nat) return script;
  return script + "table ip " + table +
         " {\n"
         "  chain forward {\n"
         "    type filter hook forward priority filter; policy accept;\n"
         "    iifname " +
         br +
         " accept\n"
         "    oifname " +
         br +
         " ct state established,related accept\n"
         "  }\n"
         "  chain postrouting {\n"
         "    type nat hook postrouting priority srcnat; policy accept;\n"
         "    ip saddr " +
         subnet + " ip daddr != " + subnet +
         " masquerade\n"
         "  }\n"
         "}\n";
}

}  // namespace

Result<bool> parse_setting_bool(const Value& value) {
  if (value.is_bool()) return value.as_bool();
  const std::string& t = value.str();
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  return Error(Code::kInvalidArgument, "");
}

Result<bool> parse_bridge_setting(const std::string& where, const std::string& key,
                                  const Value& value, BridgeNetwork* network) {
  if (key == "bridge") {
    if (!valid_bridge_name(value.str())) {
      return Error(Code::kInvalidArgument,
                   where + "bridge must be 1 to 15 letters, digits, '-' or '_', not \"" +
                       (value.is_string() ? value.str() : value.to_json()) + "\"");
    }
    network->bridge = value.str();
  } else if (key == "subnet") {
    if (!value.is_string()) {
      return Error(Code::kInvalidArgument, where + "subnet must be a string like 10.213.0.0/24");
    }
    auto subnet = Ipv4Subnet::parse(value.str());
    if (!subnet.ok()) return subnet.error().wrap(where.substr(0, where.size() - 2));
    network->subnet = *subnet;
  } else if (key == "nat") {
    auto nat = parse_setting_bool(value);
    if (!nat.ok()) return Error(Code::kInvalidArgument, where + "nat must be true or false");
    network->nat = *nat;
  } else {
    return false;
  }
  return true;
}

Result<NetworkTools> NetworkTools::find(bool need_nft, const std::string& cloud_type) {
  NetworkTools tools;
  auto ip = find_program("ip");
  if (!ip.ok()) {
    return Error(Code::kFailedPrecondition,
                 "the " + cloud_type + " cloud needs the ip command (iproute2)");
  }
  tools.ip = *ip;
  auto nft = find_program("nft");
  if (nft.ok()) {
    tools.nft = *nft;
  } else if (need_nft) {
    return Error(
        Code::kFailedPrecondition,
        "the " + cloud_type +
            " cloud needs the nft command (nftables) for nat: install it or set nat: false");
  }
  return tools;
}

std::string nft_table_name(const std::string& bridge) {
  return "slipway-" + bridge;
}

Status prepare_bridge_network(const BridgeNetwork& settings, const NetworkTools& tools) {
  SLIPWAY_RETURN_IF_ERROR(check_subnet_free(settings));
  SLIPWAY_RETURN_IF_ERROR(prepare_bridge(settings, tools));
  SLIPWAY_RETURN_IF_ERROR(enable_forwarding());
  if (!tools.nft.empty()) {
    SLIPWAY_RETURN_IF_ERROR(run_checked({tools.nft, "-f", "-"}, nft_script(settings), kToolTimeout,
                                        "cannot install the nftables table"));
  }
  return ok_status();
}

Status remove_bridge_network(const BridgeNetwork& settings, const NetworkTools& tools) {
  if (!tools.nft.empty()) {
    const std::string table = nft_table_name(settings.bridge);
    SLIPWAY_RETURN_IF_ERROR(run_checked({tools.nft, "-f", "-"},
                                        "table ip " + table + "\ndelete table ip " + table + "\n",
                                        kToolTimeout, "cannot remove the nftables table"));
  }
  if (!interface_exists(settings.bridge)) return ok_status();
  return run_checked({tools.ip, "link", "del", settings.bridge}, "", kToolTimeout,
                     "cannot remove bridge " + settings.bridge);
}

std::string host_resolv_conf() {
  auto text = fs::read_file("/etc/resolv.conf", 64 * 1024);
  if (text.ok() && text->find("nameserver 127.") == std::string::npos) return *text;
  auto upstream = fs::read_file("/run/systemd/resolve/resolv.conf", 64 * 1024);
  if (upstream.ok()) return *upstream;
  return text.ok() ? *text : "";
}

std::vector<std::string> host_ipv4_nameservers() {
  std::vector<std::string> servers;
  std::istringstream lines(host_resolv_conf());
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string keyword, server;
    if (!(words >> keyword >> server) || keyword != "nameserver") continue;
    auto address = parse_ipv4(server);
    if (address.ok() && (*address >> 24) != 127) servers.push_back(server);
  }
  return servers;
}

}  // namespace slipway::connectors
