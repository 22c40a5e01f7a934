// The control operation on the controller itself: status.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "controller/agents/agent_hub.h"
#include "controller/control/clouds.h"
#include "controller/control/control_server.h"
#include "controller/deployments/deployment_engine.h"

namespace slipway::controller {

// What status shows of slipwayd that nothing else here knows.
struct ControllerFacts {
  int64_t started_steady = 0;  // clock.steady_ms() at start
  std::string public_key;      // the controller's CURVE key
};

class StatusHandlers {
 public:
  // `agents` must be started (status shows its endpoint). `config` is read
  // at each request, so a reloaded configuration shows at once.
  StatusHandlers(const Clock& clock, const Config& config, AgentHub& agents,
                 DeploymentEngine& engine, Clouds& clouds, ControllerFacts facts,
                 ImageBuilds* builds = nullptr)
      : clock_(clock),
        config_(config),
        agents_(agents),
        engine_(engine),
        clouds_(clouds),
        facts_(std::move(facts)),
        builds_(builds) {}

  void register_with(ControlServer& server);

  // An admin sees every agent; anyone else those of their own deployments.
  void status(const Caller& caller, const Value& request, Reply reply);

 private:
  const Clock& clock_;
  const Config& config_;
  AgentHub& agents_;
  DeploymentEngine& engine_;
  Clouds& clouds_;
  ControllerFacts facts_;
  ImageBuilds* builds_;  // status shows the space built images take
};

}  // namespace slipway::controller
