// Deployments as the control protocol shows them.
#pragma once

#include "common/value.h"
#include "controller/deployments/deployment.h"
#include "controller/deployments/parameters.h"

namespace slipway::controller {

// One line of `slipway list`.
Value deployment_summary(const Deployment& d, int64_t now_wall);
// What `slipway show` prints and `watch` streams: state, abort reason and
// each instance with address, status, vmstate, phase and statecustom.
// `parameters` gives vmstate and statecustom of instances.
Value deployment_detail(const Deployment& d, int64_t now_wall,
                        const std::map<std::string, std::optional<std::string>>& parameters);

}  // namespace slipway::controller
