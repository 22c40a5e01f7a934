// The host side of a cloud whose machines hang off a bridge (local, qemu):
// the bridge itself, IPv4 forwarding, and one nftables table that
// masquerades the subnet to the outside.
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
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "connectors/common/ipv4.h"

namespace slipway::connectors {

// The settings every bridged cloud has:
//   bridge: slipway0          1-15 of [A-Za-z0-9_-]
//   subnet: 10.213.0.0/24     a /16 to a /28; the bridge takes .1
//   nat: true                 masquerade machines' traffic to the outside
struct BridgeNetwork {
  std::string bridge;
  Ipv4Subnet subnet;
  bool nat = true;
};

// A yes/no setting: a YAML boolean, or true/yes/on, false/no/off.
Result<bool> parse_setting_bool(const Value& value);

// Reads `key` into `network` when it is one of the settings above and
// returns true; false when it is another key. Errors are one sentence that
// starts with `where` ("cloud local: ").
Result<bool> parse_bridge_setting(const std::string& where, const std::string& key,
                                  const Value& value, BridgeNetwork* network);

// The programs the network needs, found once.
struct NetworkTools {
  std::string ip;
  std::string nft;  // "" when nat is off and nft is not installed

  // `cloud_type` names the connector in errors ("the qemu cloud needs ...").
  static Result<NetworkTools> find(bool need_nft, const std::string& cloud_type);
};

// "slipway-BRIDGE": the cloud's nftables table (family ip).
std::string nft_table_name(const std::string& bridge);

// Makes the bridge, forwarding and NAT ready as the settings say. Refuses a
// subnet that another interface already has addresses in.
Status prepare_bridge_network(const BridgeNetwork& network, const NetworkTools& tools);

// Deletes the bridge and the nft table (what prepare_bridge_network made).
// slipwayd never calls it (machines of a restarted controller still hang off
// the bridge); tests and admins tearing a cloud down do.
Status remove_bridge_network(const BridgeNetwork& network, const NetworkTools& tools);

// The host's resolv.conf as machines should get it. A host running a local
// stub (127.0.0.53) has its upstream servers in systemd-resolved's own file;
// the stub is not reachable from a machine.
std::string host_resolv_conf();
// The IPv4 name servers of host_resolv_conf(), loopback ones left out.
std::vector<std::string> host_ipv4_nameservers();

}  // namespace slipway::connectors
