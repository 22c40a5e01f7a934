// The host side of the local cloud's network: the bridge machines hang off,
// IPv4 forwarding, and one nftables table that masquerades the subnet to the
// outside.
//
// Everything is idempotent, so prepare() can run at every start of slipwayd:
// the bridge is made when missing (with a fixed MAC derived from its
// address, so it never takes a port's MAC and changes it as machines come and
// go), and the nft table is replaced atomically by one `nft -f` transaction.
// ip_forward is set to 1 and never set back: other users of the host share it.
//
// Thread-safe (no state beyond the tools' paths).
#pragma once

#include <string>

#include "common/status.h"
#include "connectors/local/settings.h"

namespace slipway::connectors::local {

// The programs the network needs, found once.
struct NetworkTools {
  std::string ip;
  std::string nft;  // "" when nat is off and nft is not installed

  static Result<NetworkTools> find(bool need_nft);
};

// "slipway-BRIDGE": the cloud's nftables table (family ip).
std::string nft_table_name(const std::string& bridge);

// Makes the bridge, forwarding and NAT ready as the settings say. Refuses a
// subnet that another interface already has addresses in.
Status prepare_host_network(const LocalSettings& settings, const NetworkTools& tools);

// Deletes the bridge and the nft table (what prepare_host_network made).
// slipwayd never calls it (machines of a restarted controller still hang off
// the bridge); tests and admins tearing a cloud down do.
Status remove_host_network(const LocalSettings& settings, const NetworkTools& tools);

}  // namespace slipway::connectors::local
