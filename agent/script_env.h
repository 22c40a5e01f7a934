// The environment of the user's scripts (SPEC section 5) and the ss-*
// command links they find first on their PATH.
//
// Thread-safe: pure functions, apart from the file-system work of
// install_command_links().
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::agent {

// The names the multi-call binary answers to.
extern const char* const kCommandNames[7];

struct ScriptIdentity {
  std::string state_dir;
  std::string deployment;
  std::string instance;  // "web.2"
  std::map<std::string, std::string> plan_env;
};

// "web.2" -> "web"; a name without an instance number is its own node.
std::string node_of(const std::string& instance);

// The scripts' environment, built from the agent's own `inherited`
// ("NAME=VALUE" entries, e.g. from environ) minus every SLIPWAY_* variable,
// plus the plan's entries, plus SLIPWAY_DEPLOYMENT, SLIPWAY_NODE,
// SLIPWAY_NODE_INSTANCE, SLIPWAY_REPORT_DIR (<state_dir>/reports) and
// SLIPWAY_AGENT_SOCKET (<state_dir>/agent.sock); PATH starts with
// <state_dir>/bin; HOME is /root unless set.
std::vector<std::string> script_environment(const ScriptIdentity& identity,
                                            const std::vector<std::string>& inherited);

// The process's environment as "NAME=VALUE" entries.
std::vector<std::string> current_environment();

// Makes <dir>/ss-* symlinks to `target` (replacing stale links; leaving
// other files alone). With only_if_absent, existing entries are kept as they are.
Status install_command_links(const std::string& dir, const std::string& target,
                             bool only_if_absent);

// readlink("/proc/self/exe").
Result<std::string> own_executable();

}  // namespace slipway::agent
