// The local cloud's settings (the `settings` of its CloudConfig) and the IPv4
// subnet arithmetic behind its bridge.
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

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace slipway::connectors::local {

// "10.213.0.7" <-> 0x0AD50007 (host byte order).
std::string format_ipv4(uint32_t address);
Result<uint32_t> parse_ipv4(const std::string& text);

struct Ipv4Subnet {
  uint32_t network = 0;  // host bits all zero
  int prefix = 24;

  // Parses "10.213.0.0/24"; the host bits must be zero.
  static Result<Ipv4Subnet> parse(const std::string& text);

  std::string to_string() const { return format_ipv4(network) + "/" + std::to_string(prefix); }
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(uint32_t address) const { return (address & mask()) == network; }
  // The controller's side of the bridge: the first host address (.1).
  uint32_t bridge_address() const { return network + 1; }
  // Machines get the addresses after the bridge's, up to the one before broadcast.
  uint32_t first_machine_address() const { return network + 2; }
  uint32_t last_machine_address() const { return (network | ~mask()) - 1; }
};

struct LocalSettings {
  std::string bridge = "slipway0";
  Ipv4Subnet subnet{0x0AD50000, 24};  // 10.213.0.0/24
  bool nat = true;
  std::vector<std::string> hide;  // absolute paths
};

// Reads and checks the settings; each error is one sentence naming the cloud.
Result<LocalSettings> parse_local_settings(const std::string& cloud_name, const Value& settings);

}  // namespace slipway::connectors::local
