// The `process` connector: machines that are plain slipway-agent processes on
// the controller's own host, each with its own state directory, and no
// isolation at all. For trying Slipway without root, and for exercising the
// orchestration with many real agents cheaply (tests, benchmarks). Scripts
// run on the host as the controller's user: opt in knowingly.
#pragma once

#include "connectors/connector.h"

namespace slipway::connectors {

Result<std::unique_ptr<Connector>> make_process_connector(const CloudConfig& cloud,
                                                          const ConnectorEnvironment& environment);

}  // namespace slipway::connectors
