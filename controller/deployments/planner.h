// Turns a deploy request into a deployment plan: the module resolved to exact
// versions, each node's image chain, cloud, multiplicity and agent plan, and
// the value of every input. Everything a user can get wrong (an unknown
// module, node or cloud, a bad -p, an input with no value) fails here, before
// anything exists.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "controller/catalog/caller.h"
#include "controller/catalog/catalog.h"
#include "controller/catalog/image_builds.h"
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
  // A build's run (plan_build): inputs with no value stay unset instead of
  // being refused, since no deployment script runs.
  bool for_build = false;
};

struct DeploymentPlan {
  std::string module;  // NAME@VERSION
  std::vector<NodePlan> nodes;
  // Input values per node: "web" -> {"title" -> "Hello"}; every instance gets them.
  std::map<std::string, std::map<std::string, std::string>> inputs;
  KeepRunning keep_running = KeepRunning::kOnSuccess;
  int64_t timeout_ms = 0;
};

// With `builds`, a node whose image (or a parent) has a usable build on the
// node's cloud boots it and skips the steps it holds (docs/images.md).
Result<DeploymentPlan> plan_deployment(const Caller& caller, const DeployRequest& request,
                                       Catalog& catalog, const Config& config,
                                       ImageBuilds* builds = nullptr);

// A run of `slipway image build MODULE --cloud CLOUD`: one machine of the
// image's parent (of the parent's usable build, when it has one), running
// the install steps the image adds, never kept. Fails, having made
// nothing, for a deployment module, a reference image, or a cloud the chain
// has no reference for.
struct BuildPlan {
  DeploymentPlan plan;
  ImageChain chain;
  std::optional<UsableBuild> base;  // the parent's build it starts from
};
Result<BuildPlan> plan_build(const Caller& caller, const std::string& module,
                             const std::string& cloud, Catalog& catalog, const Config& config,
                             ImageBuilds& builds);

// The node name of an image deployed on its own: its last path segment,
// made a valid node name ("examples/lamp/db" -> "db").
std::string node_name_for_image(const std::string& image_name);

}  // namespace slipway::controller
