// slipway-local-launch: starts one local machine (see launch_protocol.h).
//
// A separate small program because slipwayd is multi-threaded: between fork
// and exec a threaded process may only call async-signal-safe functions, and
// a machine's start needs setns, unshare, a fork into a new pid namespace and
// a dozen mounts. slipwayd posix_spawns this instead.
#include "connectors/local/launcher/launcher.h"

// In sanitizer builds: LeakSanitizer's exit-time check stops the world from
// a helper it clones, which after unshare(CLONE_NEWPID) lands in the
// machine's pid namespace and cannot see this process; the launcher hangs.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0";
}

int main(int argc, char** argv) {
  return slipway::connectors::local::launcher::run_launcher(argc, argv);
}
