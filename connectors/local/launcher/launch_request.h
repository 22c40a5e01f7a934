// The launcher's command line (see connectors/local/launch_protocol.h),
// parsed and checked before anything is touched.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/local/launch_protocol.h"

namespace slipway::connectors::local::launcher {

Result<LaunchRequest> parse_launch_request(int argc, char** argv);

}  // namespace slipway::connectors::local::launcher
