// What control answers need of the clouds: whether one takes machines, its
// state, a machine's console. slipwayd passes its ConnectorProvisioner behind
// this; tests pass a fake, so no handler test starts a connector.
#pragma once

#include <string>

#include "common/status.h"
#include "connectors/connector.h"
#include "controller/deployments/cloud_state.h"

namespace slipway::controller {

class Clouds {
 public:
  virtual ~Clouds() = default;
  // Where `cloud` is now (kUnknown for one not configured).
  virtual CloudState state(const std::string& cloud) = 0;
  // What a ready cloud can do; all false for one not ready.
  virtual connectors::Capabilities capabilities(const std::string& cloud) = 0;
  // The console output of a machine, or why there is none.
  virtual Result<std::string> console_log(const std::string& cloud,
                                          const std::string& machine_id) = 0;
};

}  // namespace slipway::controller
