// One ICMP echo, for tests that check a user could ping a machine. Written
// here rather than run through ping(8), which minimal hosts lack.
#pragma once

#include <string>

namespace slipway::test {

// Sends an echo request to `address` and waits up to `timeout_ms` for the
// reply. With `netns_path` (a /run/netns/NAME) the echo leaves from that
// network namespace instead of the caller's. Needs root (a raw socket).
bool icmp_echo(const std::string& address, int timeout_ms, const std::string& netns_path = "");

}  // namespace slipway::test
