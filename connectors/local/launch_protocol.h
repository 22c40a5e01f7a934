// What slipwayd and slipway-local-launch agree on: the launcher's command
// line and its one-line answer. Header-only, so the launcher links nothing of
// Slipway's.
//
//   slipway-local-launch --dir MACHINE_DIR --lower DIR [--layer IMAGE]... --netns PATH
//                        --hostname NAME [--address A.B.C.D/PREFIX --gateway G]
//                        [--hide PATH]... [--cgroup DIR]... [--agent-socket-dir DIR]
//                        -- COMMAND [ARG]...
//
// It first moves itself into each control group DIR (machine_cgroup.h), so
// the machine is inside its limits from its first process on. It joins the
// network namespace at PATH, configures lo and eth0 there,
// starts the machine's PID 1 in new pid, mount, uts and ipc namespaces over
// an overlay of DIR (lower) and MACHINE_DIR/upper (with each IMAGE, a built
// image's layer as an ext4 file system, mounted read-only from a loop device
// that goes with the machine, between the two: the first the topmost),
// binds the directory of
// the controller's Unix socket for agents read-only at
// kAgentSocketDirInMachine when given, and execs COMMAND in it.
// On standard output it then prints "ok PID START" (the host pid of the
// machine's PID 1 and its start time) and exits 0; or it prints one sentence
// saying what failed, exits non-zero, and leaves no process behind.
#pragma once

#include <string>
#include <vector>

#include "connectors/common/process_stamp.h"

namespace slipway::connectors::local {

inline constexpr const char* kLauncherName = "slipway-local-launch";
inline constexpr const char* kLaunchOk = "ok ";
// Where a machine finds the directory of the controller's agent socket.
inline constexpr const char* kAgentSocketDirInMachine = "/run/slipway-controller";

// A machine's PID 1 is known by its pid and start time (process_stamp.h).
using connectors::ProcessStamp;
using connectors::read_process_stamp;

// The command line's fields: what slipwayd writes (launch_command(),
// machine_process.h) and the launcher reads back (parse_launch_request()).
struct LaunchRequest {
  std::string machine_dir;  // holds upper/, work/, merged/ and console.log
  std::string lower;        // the overlay's lower layer; "/" for the host's root
  std::vector<std::string> layers;  // a built image's layer files, topmost first (image_layer.h)
  std::string netns;        // path of the named network namespace to join
  std::string hostname;
  std::string address;               // "10.213.0.7/24", or "" to leave eth0 alone
  std::string gateway;               // "10.213.0.1"
  std::vector<std::string> hide;     // paths (inside the machine) to cover
  std::vector<std::string> cgroups;  // control groups to join before anything else
  std::string agent_socket_dir;      // host directory bound at kAgentSocketDirInMachine, or ""
  std::vector<std::string> command;  // PID 1 of the machine, run inside it
};

}  // namespace slipway::connectors::local
