// Turns a deploy request into a deployment plan: the module resolved to exact
// versions, each node's image chain, cloud, multiplicity and agent plan, and
// the value of every input. Everything a user can get wrong (an unknown
// module, node or cloud, a bad -p, an input with no value) fails here, before
// anything exists.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "controller/catalog/caller.h"
#include "controller/catalog/catalog.h"
#include "controller/deployments/deployment.h"

namespace slipway::controller {

struct DeployRequest {
  std::string module;                              // NAME or NAME@N, a deployment or an image
  std::string cloud;                               // "" for the configured default
  std::map<std::string, std::string> node_clouds;  // --node-cloud NODE=C
  std::vector<std::string> parameters;             // -p NODE:KEY=VALUE
  std::map<std::string, int64_t> multiplicities;   // --multiplicity NODE=N
  std::string keep_running;                        // "" for on-success
  int64_t timeout_ms = 0;                          // 0 for the configured default
};

struct DeploymentPlan {
  std::string module;  // NAME@VERSION
  std::vector<NodePlan> nodes;
  // Input values per node: "web" -> {"title" -> "Hello"}; every instance gets them.
  std::map<std::string, std::map<std::string, std::string>> inputs;
  KeepRunning keep_running = KeepRunning::kOnSuccess;
  int64_t timeout_ms = 0;
};

// `connector_of` gives the connector type of a configured cloud, or "" when
// there is no such cloud.
Result<DeploymentPlan> plan_deployment(const Caller& caller, const DeployRequest& request,
                                       Catalog& catalog, const Config& config);

// The node name of an image deployed on its own: its last path segment,
// made a valid node name ("examples/lamp/db" -> "db").
std::string node_name_for_image(const std::string& image_name);

}  // namespace slipway::controller
