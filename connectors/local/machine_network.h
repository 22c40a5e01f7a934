// Each machine's network plumbing on the host: a named network namespace and
// a veth pair whose host end joins the bridge and whose other end is the
// machine's eth0 (fixed MAC). One `ip -batch` per machine, to keep process
// spawns down; the launcher then sets the address, the route and lo from
// inside the namespace with ioctls.
//
// Thread-safe: calls for distinct machines may run at once.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/common/bridge_network.h"
#include "connectors/local/machine_dir.h"

namespace slipway::connectors::local {

// Where `ip netns` keeps its namespaces; setns() opens them here.
inline constexpr const char* kNetnsDir = "/run/netns";

// Makes sure /run/netns is the shared mount point `ip netns` wants, once,
// before parallel launches could race to make it, and so proves network
// namespaces work before any machine needs one.
Status ensure_netns_dir(const std::string& bridge, const NetworkTools& tools);

// Creates the machine's netns and veth pair and puts the host end on the
// bridge. On failure removes what it made.
Status add_machine_network(const NetworkTools& tools, const std::string& bridge,
                           const MachineRecord& record);

// Deletes the veth pair and the netns, whichever of them exist. Idempotent.
Status remove_machine_network(const NetworkTools& tools, const std::string& netns,
                              const std::string& veth);

// The machine ids of every netns of the cloud on `bridge`.
std::vector<std::string> list_machine_netns(const std::string& bridge);

}  // namespace slipway::connectors::local
