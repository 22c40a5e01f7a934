// slipwayd's command line.
#pragma once

namespace slipway::controller {

// Parses arguments, runs the controller, returns the exit status. Every
// failure is printed as one sentence on stderr.
int slipwayd_main(int argc, char** argv);

}  // namespace slipway::controller
