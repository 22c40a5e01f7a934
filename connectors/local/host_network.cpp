#include "connectors/local/host_network.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "common/fs.h"
#include "connectors/local/command.h"
#include "connectors/local/machine_dir.h"
#include "connectors/local/machine_network.h"

namespace slipway::connectors::local {
namespace {

constexpr std::chrono::seconds kToolTimeout{30};

bool interface_exists(const std::string& name) {
  return ::if_nametoindex(name.c_str()) != 0;
}

// Another interface with an address in our subnet would make the host route
// the machines' traffic (or the other interface's) the wrong way.
Status check_subnet_free(const LocalSettings& settings) {
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

Status prepare_bridge(const LocalSettings& settings, const NetworkTools& tools) {
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
  FILE* f = std::fopen(path.c_str(), "we");
  bool ok = f != nullptr && std::fputs("1\n", f) >= 0;
  if (f != nullptr) ok = std::fclose(f) == 0 && ok;
  if (!ok) return Error(Code::kIo, "cannot enable IPv4 forwarding (" + path + ")");
  return ok_status();
}

// Creating the table first makes the delete valid whether or not it existed,
// so the whole file is one atomic replace.
std::string nft_script(const LocalSettings& settings) {
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

bool netns_dir_mounted() {
  auto mounts = fs::read_file("/proc/self/mountinfo", 16 << 20);
  return mounts.ok() && mounts->find(std::string(" ") + kNetnsDir + " ") != std::string::npos;
}

// `ip netns add` turns /run/netns into a shared mount point the first time.
// Doing it once here keeps parallel launches from racing to do it, and
// proves network namespaces work before any machine needs one.
Status ensure_netns_dir(const LocalSettings& settings, const NetworkTools& tools) {
  if (netns_dir_mounted()) return ok_status();
  // -force: a probe left by a crash must not stop the next start.
  std::string probe = "slw-" + settings.bridge;  // no '.': never a machine's name
  Status made = run_checked({tools.ip, "-force", "-batch", "-"},
                            "netns add " + probe + "\nnetns del " + probe + "\n", kToolTimeout,
                            "cannot create network namespaces");
  if (!made.ok() && (!netns_dir_mounted() || fs::exists(std::string(kNetnsDir) + "/" + probe))) {
    return made;
  }
  return ok_status();
}

}  // namespace

Result<NetworkTools> NetworkTools::find(bool need_nft) {
  NetworkTools tools;
  auto ip = find_program("ip");
  if (!ip.ok())
    return Error(Code::kFailedPrecondition, "the local cloud needs the ip command (iproute2)");
  tools.ip = *ip;
  auto nft = find_program("nft");
  if (nft.ok()) {
    tools.nft = *nft;
  } else if (need_nft) {
    return Error(
        Code::kFailedPrecondition,
        "the local cloud needs the nft command (nftables) for nat: install it or set nat: false");
  }
  return tools;
}

std::string nft_table_name(const std::string& bridge) {
  return "slipway-" + bridge;
}

Status prepare_host_network(const LocalSettings& settings, const NetworkTools& tools) {
  SLIPWAY_RETURN_IF_ERROR(check_subnet_free(settings));
  SLIPWAY_RETURN_IF_ERROR(prepare_bridge(settings, tools));
  SLIPWAY_RETURN_IF_ERROR(enable_forwarding());
  if (!tools.nft.empty()) {
    SLIPWAY_RETURN_IF_ERROR(run_checked({tools.nft, "-f", "-"}, nft_script(settings), kToolTimeout,
                                        "cannot install the nftables table"));
  }
  return ensure_netns_dir(settings, tools);
}

Status remove_host_network(const LocalSettings& settings, const NetworkTools& tools) {
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

}  // namespace slipway::connectors::local
