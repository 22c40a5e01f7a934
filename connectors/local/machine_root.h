// A machine's root file system: an overlay whose read-only lower layer is the
// reference root file system and whose writable upper layer is the machine's
// own. Contextualization is delivered "as a file in the root file system":
// the files below are written into the upper layer before anything runs.
//
//   /etc/slipway/context        the contextualization (mode 0600)
//   /usr/sbin/slipway-agent     a copy of the static agent (mode 0755)
//   /etc/hostname, /etc/hosts   the machine's name and address
//   /etc/resolv.conf            the host's resolvers
//   /usr/sbin/policy-rc.d       "exit 0", on Debian-like roots, so that
//                               packages' services start (the host's may say 101)
//
// Plain functions: thread-safe for distinct machines.
#pragma once

#include <string>

#include "common/context.h"
#include "common/status.h"
#include "common/value.h"
#include "connectors/local/machine_dir.h"

namespace slipway::connectors::local {

// Inside the machine: where the agent and its contextualization live.
inline constexpr const char* kAgentPathInMachine = "/usr/sbin/slipway-agent";
inline constexpr const char* kContextPathInMachine = "/etc/slipway/context";
inline constexpr const char* kAgentStateDirInMachine = "/var/lib/slipway-agent";

// The overlay's lower directory for an image's local reference:
//   {rootfs: host}          the host's own root, "/"
//   {rootfs: /abs/dir}      a directory holding /bin/sh or /usr/bin/sh
//   {rootfs: NAME}          IMAGES_DIR/NAME/rootfs, built under images/
// Errors say in one sentence what is wrong with the reference.
Result<std::string> resolve_rootfs(const Value& reference, const std::string& images_dir);

// Overlay mount options are comma- and colon-separated: a path holding one
// of those cannot be a layer.
Status check_layer_path(const std::string& path);

struct UpperLayer {
  std::string hostname;
  std::string address;  // "10.213.0.7"
  std::string platform;
  const Contextualization* context = nullptr;
  std::string agent_path;  // on the host
};

// Writes the files above into the machine's upper layer, over `lower`.
Status populate_upper(const MachineDir& dir, const std::string& lower, const UpperLayer& layer);

}  // namespace slipway::connectors::local
