// Processes on this host, read from /proc: a process's command line, its
// descendants, and stopping a whole tree.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace slipway::connectors {

// The command line of `pid` with NULs as spaces, or "" when it is gone.
std::string process_cmdline(pid_t pid);
// True while `pid` runs (a zombie does not count).
bool process_alive(pid_t pid);
// Every descendant of `pid`, children before grandchildren.
std::vector<pid_t> process_descendants(pid_t pid);
// SIGTERM to `pid` and its descendants; SIGKILL to what is left after
// `grace`; reaps `pid` if it is our child. Returns when all are gone.
void kill_tree(pid_t pid, std::chrono::milliseconds grace);

}  // namespace slipway::connectors
