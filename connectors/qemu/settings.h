// The qemu cloud's settings (the `settings` of its CloudConfig):
//
//   clouds:
//     vms:
//       connector: qemu
//       bridge: slipwayvm0        # the bridge the machines' taps join
//       subnet: 10.214.0.0/24     # a /16 to a /28; the bridge takes .1
//       nat: true                 # masquerade machines' traffic to the outside
//       accel: auto               # kvm, tcg, or auto: kvm when it really works
//       memory_mb: 256            # every machine gets this much, whatever its image asks
//       qemu: /usr/bin/qemu-system-x86_64
//
// Plain values, no state: thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/value.h"
#include "connectors/common/bridge_network.h"

namespace slipway::connectors::qemu {

enum class Accel { kAuto, kTcg, kKvm };

// Below this a busybox machine's kernel does not get to its /init.
inline constexpr int64_t kMinMemoryMb = 80;

struct QemuSettings : BridgeNetwork {
  QemuSettings()
      : BridgeNetwork{"slipwayvm0", Ipv4Subnet{0x0AD60000, 24}, true} {}  // 10.214.0.0/24
  Accel accel = Accel::kAuto;
  // 0: each machine gets what its image's resources ask (base/busybox asks
  // 128, an image that says nothing gets the controller's 512).
  int64_t memory_mb = 0;
  std::string qemu;  // absolute; "" for qemu-system-x86_64 on the PATH
};

// Reads and checks the settings; each error is one sentence naming the cloud.
Result<QemuSettings> parse_qemu_settings(const std::string& cloud_name, const Value& settings);

}  // namespace slipway::connectors::qemu
