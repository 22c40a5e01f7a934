// What control answers need of the clouds: whether one takes machines, its
// state, a machine's console. slipwayd passes its ConnectorProvisioner behind
// this; tests pass a fake, so no handler test starts a connector.
#pragma once

#include <string>

#include "common/status.h"
#include "common/value.h"
#include "controller/deployments/cloud_state.h"

namespace slipway::controller {

class Clouds {
 public:
  virtual ~Clouds() = default;
  // Where `cloud` is now (kUnknown for one not configured).
  virtual CloudState state(const std::string& cloud) = 0;
  // Whether `cloud` could snapshot a machine booted from `reference`: ok,
  // or why not (Connector::check_snapshot).
  virtual Status check_snapshot(const std::string& cloud, const Value& reference) = 0;
  // The console output of a machine, or why there is none.
  virtual Result<std::string> console_log(const std::string& cloud,
                                          const std::string& machine_id) = 0;
};

}  // namespace slipway::controller
