// The local cloud's settings (the `settings` of its CloudConfig).
//
//   clouds:
//     local:
//       bridge: slipway0          # the bridge the controller manages
//       subnet: 10.213.0.0/24     # a /16 to /28; the bridge takes .1
//       nat: true                 # masquerade machines' traffic to the outside
//       hide: [/srv/secrets]      # extra host paths machines must not see
//
// Plain values, no state: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "connectors/common/bridge_network.h"

namespace slipway::connectors::local {

struct LocalSettings : BridgeNetwork {
  LocalSettings() : BridgeNetwork{"slipway0", Ipv4Subnet{0x0AD50000, 24}, true} {}  // 10.213.0.0/24
  std::vector<std::string> hide;  // absolute paths
  bool cpu_quota = false;         // enforce the image's cpus (machine_cgroup.h)
};

// Reads and checks the settings; each error is one sentence naming the cloud.
Result<LocalSettings> parse_local_settings(const std::string& cloud_name, const Value& settings);

}  // namespace slipway::connectors::local
