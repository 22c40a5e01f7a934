// The launcher's command line (see connectors/local/launch_protocol.h),
// parsed and checked before anything is touched.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::connectors::local::launcher {

struct LaunchRequest {
  std::string machine_dir;  // holds upper/, work/, merged/ and console.log
  std::string lower;        // the overlay's lower layer; "/" for the host's root
  std::string netns;        // path of the named network namespace to join
  std::string hostname;
  std::string address;               // "10.213.0.7/24", or "" to leave eth0 alone
  std::string gateway;               // "10.213.0.1"
  std::vector<std::string> hide;     // paths (inside the machine) to cover
  std::vector<std::string> cgroups;  // control groups to join before anything else
  std::string agent_socket_dir;      // host directory bound at kAgentSocketDirInMachine, or ""
  std::vector<std::string> command;  // PID 1 of the machine, run inside it
};

Result<LaunchRequest> parse_launch_request(int argc, char** argv);

}  // namespace slipway::connectors::local::launcher
