// What the machine's PID 1 does before it becomes the agent: its own mount,
// uts and ipc namespaces, the overlay root with fresh /proc, /sys, /dev,
// /run and /tmp, the hostname, pivot_root into the overlay (dropping every
// host mount, /run/netns binds included), the host paths to hide covered,
// standard output and error to the console log, and exec.
//
// Runs in the launcher's child, which is PID 1 of a new pid namespace and
// already in the machine's network namespace.
#pragma once

#include "connectors/local/launcher/launch_request.h"

namespace slipway::connectors::local::launcher {

// Never returns. On any failure writes one sentence to `report_fd` and
// exits; on success the exec closes `report_fd` (close-on-exec), which tells
// the launcher that the machine runs.
[[noreturn]] void become_machine(const LaunchRequest& request, int report_fd);

}  // namespace slipway::connectors::local::launcher
