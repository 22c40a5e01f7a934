// slipway-agent is a multi-call binary: as ss-get, ss-set, ... (symlinks on
// the machine) it is that command; otherwise it is the agent.
#pragma once

namespace slipway::agent {

int multicall_main(int argc, char** argv);

// The agent proper: slipway-agent [--context FILE] [--state-dir DIR] ...
int agent_main(int argc, char** argv);

}  // namespace slipway::agent
