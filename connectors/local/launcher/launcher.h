// The launcher's whole run, kept out of main.cpp (see launch_protocol.h for
// what it does and answers).
#pragma once

namespace slipway::connectors::local::launcher {

// Returns the exit status; prints the one-line answer on standard output.
int run_launcher(int argc, char** argv);

}  // namespace slipway::connectors::local::launcher
