// Running helper programs (ip, nft, genisoimage, the local machine launcher)
// from slipwayd, for any connector.
//
// slipwayd is multi-threaded, so children are started with posix_spawn (no
// code of ours runs between fork and exec), with every descriptor of ours
// close-on-exec, a clean signal mask and a minimal environment: nothing of
// slipwayd leaks into a helper, nor through a helper into a machine.
//
// Thread-safe: any number of threads may run commands at once.
#pragma once

#include <spawn.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::connectors {

// posix_spawn attributes and file actions, freed whatever happens.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// posix_spawn of argv (argv[0] an absolute path) with `setup`, in a fixed
// environment (a standard PATH, LC_ALL=C). The error names argv[0].
Result<pid_t> spawn_program(const std::vector<std::string>& argv, SpawnSetup& setup);

struct CommandResult {
  int status = -1;     // exit code, or 128 + signal
  std::string output;  // stdout and stderr together, at most 1 MiB
};

// Runs argv (argv[0] an absolute path) with `input` on its standard input,
// and waits for it. Killed (and a kTimeout error) after `timeout`. An error
// only when it could not be started or timed out; a non-zero exit is a result.
Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout);

// run_command, failing unless it exits 0; the error is "`what`: <its output>".
Status run_checked(const std::vector<std::string>& argv, const std::string& input,
                   std::chrono::milliseconds timeout, const std::string& what);

// The absolute path of a program, searched in $PATH and then the sbin and bin
// directories (slipwayd may run with a PATH that lacks /usr/sbin).
Result<std::string> find_program(const std::string& name);

}  // namespace slipway::connectors
