// A machine's PID 1 as slipwayd sees it: started through slipway-local-launch,
// known afterwards by its host pid and start time (a pid alone may have been
// reused by an unrelated process since), stopped with SIGKILL, which takes
// the whole pid namespace, the mount namespace and the overlay with it.
//
// Thread-safe: every function may run for distinct machines at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/local/launch_protocol.h"

namespace slipway::connectors::local {

// Where slipway-local-launch is: next to the running program, then in the
// build tree (slipwayd is build/controller/slipwayd, the launcher
// build/connectors/local/slipway-local-launch), then SLIPWAY_LIBEXEC_DIR.
Result<std::string> find_launcher();

struct MachineProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

// The launcher's command line for `args`.
std::vector<std::string> launch_command(const std::string& launcher, const LaunchRequest& args);

// Runs the launcher and returns the machine's PID 1, or the launcher's one
// sentence. On failure no process of the machine is left.
Result<MachineProcess> start_machine(const std::string& launcher, const LaunchRequest& args);

// True while the process is alive and still the one that was started.
bool machine_running(const MachineProcess& process);

// SIGKILLs the machine's PID 1, if it still is that process, and waits until
// it has exited (a zombie counts: it holds no namespace any more). Ok when it
// is already gone.
Status stop_machine(const MachineProcess& process, std::chrono::milliseconds timeout);

// SIGKILLs every process in the network namespace bound at `netns_path` and
// waits until they have exited: what stops a machine whose pid was never
// recorded. Ok when the namespace does not exist.
Status stop_netns_processes(const std::string& netns_path, std::chrono::milliseconds timeout);

}  // namespace slipway::connectors::local
