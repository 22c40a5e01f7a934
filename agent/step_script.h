// What a step of the plan runs: the script file's name and text, and the
// command line that starts it. A "packages" step becomes a small generated
// shell script for the platform's package manager, so it is logged, streamed
// and stopped exactly like the user's scripts.
//
// Thread-safe: pure functions.
#pragma once

#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"

namespace slipway::agent {

// A step id made safe as a file name: [A-Za-z0-9._-] kept, the rest '_'.
std::string sanitize_step_id(const std::string& id);

// The shell script that installs `packages` on `platform`. An unknown
// platform, or busybox, gets a script that fails with one clear sentence.
std::string package_script(const std::string& platform, const std::vector<std::string>& packages);

// The text of the file a step runs. Fails for an unknown kind.
Result<std::string> step_script_text(const proto::Step& step, const std::string& platform);

// How to run a script file: directly when it starts with "#!", else with /bin/sh.
std::vector<std::string> script_command(const std::string& path, const std::string& text);

// `text` quoted for a POSIX shell.
std::string shell_quote(const std::string& text);

}  // namespace slipway::agent
