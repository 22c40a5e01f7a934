// The `qemu` cloud: machines are virtual machines under qemu-system-x86_64
// (KVM where /dev/kvm really works, TCG otherwise), each on a tap device on a
// bridge the controller manages, booting an image built under images/
// directly from its kernel and initrd (and a copy-on-write disk over the
// image's, when it has one). The contextualization reaches the machine on a
// NoCloud seed disk. See docs/connectors.md.
#pragma once

#include <memory>

#include "connectors/connector.h"

namespace slipway::connectors::qemu {

// The connector of a qemu cloud; fails when its settings are wrong.
Result<std::unique_ptr<Connector>> make_qemu_connector(const CloudConfig& cloud,
                                                       const ConnectorEnvironment& environment);

}  // namespace slipway::connectors::qemu
