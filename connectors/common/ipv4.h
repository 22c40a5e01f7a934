// IPv4 addresses and subnets as clouds on a host bridge use them: the bridge
// takes the subnet's first address (.1), machines the ones after it.
//
// Plain values, no state: thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace slipway::connectors {

// "10.213.0.7" <-> 0x0AD50007 (host byte order).
std::string format_ipv4(uint32_t address);
Result<uint32_t> parse_ipv4(const std::string& text);

struct Ipv4Subnet {
  uint32_t network = 0;  // host bits all zero
  int prefix = 24;

  // Parses "10.213.0.0/24"; a /16 to a /28, the host bits zero.
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

// A fixed MAC for an address (02:53 and its four bytes), so a machine that
// gets an address back does not meet stale ARP entries, and a bridge keeps
// one MAC whatever ports come and go.
std::string mac_for(uint32_t address);

}  // namespace slipway::connectors
