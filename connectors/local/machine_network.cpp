#include "connectors/local/machine_network.h"

#include <net/if.h>

#include "common/fs.h"
#include "connectors/common/command.h"

namespace slipway::connectors::local {
namespace {

constexpr std::chrono::seconds kIpTimeout{30};

bool netns_dir_mounted() {
  auto mounts = fs::read_file("/proc/self/mountinfo", 16 << 20);
  return mounts.ok() && mounts->find(std::string(" ") + kNetnsDir + " ") != std::string::npos;
}

}  // namespace

// `ip netns add` turns /run/netns into a shared mount point the first time.
Status ensure_netns_dir(const std::string& bridge, const NetworkTools& tools) {
  if (netns_dir_mounted()) return ok_status();
  // -force: a probe left by a crash must not stop the next start.
  std::string probe = "slw-" + bridge;  // no '.': never a machine's name
  Status made = run_checked({tools.ip, "-force", "-batch", "-"},
                            "netns add " + probe + "\nnetns del " + probe + "\n", kIpTimeout,
                            "cannot create network namespaces");
  if (!made.ok() && (!netns_dir_mounted() || fs::exists(std::string(kNetnsDir) + "/" + probe))) {
    return made;
  }
  return ok_status();
}

Status add_machine_network(const NetworkTools& tools, const std::string& bridge,
                           const MachineRecord& record) {
  const std::string batch = "netns add " + record.netns + "\nlink add " + record.veth +
                            " type veth peer name eth0 address " + mac_for(record.address) +
                            " netns " + record.netns + "\nlink set " + record.veth + " master " +
                            bridge + " up\n";
  Status status = run_checked({tools.ip, "-batch", "-"}, batch, kIpTimeout,
                              "cannot set up the network of machine " + record.machine_id);
  if (!status.ok()) (void)remove_machine_network(tools, record.netns, record.veth);
  return status;
}

Status remove_machine_network(const NetworkTools& tools, const std::string& netns,
                              const std::string& veth) {
  // Deleting one end of the pair deletes both at once; leaving it to the
  // namespace's teardown would let the host end linger for a while.
  std::string batch;
  if (!veth.empty() && ::if_nametoindex(veth.c_str()) != 0) batch += "link del " + veth + "\n";
  if (!netns.empty() && fs::exists(std::string(kNetnsDir) + "/" + netns)) {
    batch += "netns del " + netns + "\n";
  }
  if (batch.empty()) return ok_status();
  Status status = run_checked({tools.ip, "-force", "-batch", "-"}, batch, kIpTimeout,
                              "cannot remove network namespace " + netns);
  // A concurrent remover may have won the race: what counts is that both are gone.
  if (!status.ok() && ::if_nametoindex(veth.c_str()) == 0 &&
      !fs::exists(std::string(kNetnsDir) + "/" + netns)) {
    return ok_status();
  }
  return status;
}

std::vector<std::string> list_machine_netns(const std::string& bridge) {
  std::vector<std::string> ids;
  auto names = fs::list_dir(kNetnsDir);
  if (!names.ok()) return ids;
  const std::string prefix = netns_prefix(bridge);
  for (const auto& name : *names) {
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0) {
      ids.push_back(name.substr(prefix.size()));
    }
  }
  return ids;
}

}  // namespace slipway::connectors::local
