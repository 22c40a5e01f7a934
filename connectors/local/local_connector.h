// The `local` cloud: machines are Linux namespaces on this host (pid, mount,
// uts, ipc, net), each with its own hostname and address on a bridge the
// controller manages, and a root file system that is an overlay on a
// reference root (the host's own, or one built under images/), so nothing a
// machine installs touches the host. See docs/connectors.md.
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace slipway::connectors::local {

// The connector of a local cloud; fails when its settings are wrong.
Result<std::unique_ptr<Connector>> make_local_connector(const CloudConfig& cloud,
                                                        const ConnectorEnvironment& environment);

}  // namespace slipway::connectors::local
