// Configures the network inside the machine's namespace, from within it:
// lo up, eth0's address and netmask, eth0 up, the default route through the
// bridge. Plain ioctls on a socket of that namespace: cheaper than running
// `ip` once more per machine, and nothing to parse.
//
// Call after setns() into the namespace; the socket belongs to it.
#pragma once

#include <string>

#include "common/status.h"

namespace slipway::connectors::local::launcher {

// `address` is "A.B.C.D/PREFIX"; empty leaves eth0 alone (lo still comes up).
Status configure_namespace_network(const std::string& address, const std::string& gateway);

}  // namespace slipway::connectors::local::launcher
