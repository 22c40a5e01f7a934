// The controller's configuration: defaults that work with no file at all
// (SPEC section 7), a YAML file that may change any of them, and the command
// line over both.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "common/value.h"

namespace slipway {

using Millis = std::chrono::milliseconds;

struct CloudConfig {
  std::string name;       // how deployments name it: "local", "qemu", "lab-hosts"
  std::string connector;  // the connector type: "local", "qemu", "ssh"
  Value settings;         // everything else under the cloud, for the connector to read
};

struct Config {
  std::string data_dir;
  std::string control_socket;
  std::string control_group = "slipway";      // group of the control socket (mode 0660)
  std::string admin_group = "slipway-admin";  // members see and act on everything
  // Where the agent endpoint binds. "*" as port picks a free one.
  std::string agent_endpoint = "tcp://*:7740";
  log::Level log_level = log::Level::kInfo;
  Millis heartbeat_interval{5000};
  Millis heartbeat_timeout{30000};
  Millis deployment_timeout{3600 * 1000};
  // How long a launched machine's agent has to call back.
  Millis provisioning_timeout{600 * 1000};
  std::string agent_binary;  // "" to look next to slipwayd, then in the usual places
  std::string images_dir;    // "" for DATA_DIR/images
  std::string default_cloud = "local";
  std::vector<CloudConfig> clouds;  // "local" is always there unless configured away
  std::string source;               // the file it came from, or "" for defaults

  const CloudConfig* cloud(const std::string& name) const;
};

// Defaults for the calling user: root gets /var/lib/slipway and
// /run/slipway/control.sock, others $XDG_DATA_HOME/slipway and
// $XDG_RUNTIME_DIR/slipway.sock.
Config default_config();

// The control socket a client should use when not told: $SLIPWAY_SOCKET, or
// the default for its user.
std::string default_control_socket();

// Reads a YAML configuration over the defaults. Unknown keys, wrong types and
// bad values fail with "FILE:LINE: what is wrong".
Result<Config> load_config(const std::string& path);
// The same, from text (`source` names it in errors).
Result<Config> parse_config(const std::string& text, const std::string& source);

// "500ms", "30s", "5m", "1h", or a bare number of seconds.
Result<Millis> parse_duration(const std::string& text);

}  // namespace slipway
