// Control operations on deployments: deploy, list, show, params, get, set,
// abort, terminate, reports, console.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include "common/clock.h"
#include "common/config.h"
#include "controller/catalog/catalog.h"
#include "controller/control/clouds.h"
#include "controller/control/control_server.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/event_log.h"

namespace slipway::controller {

class DeploymentHandlers {
 public:
  // `config` is read at each request (deploy plans against its clouds), so
  // a reloaded configuration applies at once.
  // With `builds`, deployments boot the images built for them (docs/images.md).
  DeploymentHandlers(DeploymentEngine& engine, Catalog& catalog, Clouds& clouds, EventLog& events,
                     const Clock& clock, const Config& config, ImageBuilds* builds = nullptr)
      : engine_(engine),
        builds_(builds),
        catalog_(catalog),
        clouds_(clouds),
        events_(events),
        clock_(clock),
        config_(config) {}

  void register_with(ControlServer& server);

  void deploy(const Caller& caller, const Value& request, Reply reply);
  void list(const Caller& caller, const Value& request, Reply reply);
  void show(const Caller& caller, const Value& request, Reply reply);
  void params(const Caller& caller, const Value& request, Reply reply);
  // Answers at once when the parameter is set or the deployment is over;
  // else when it is set, the wait times out or the deployment aborts.
  void get(const Caller& caller, const Value& request, Reply reply);
  void set(const Caller& caller, const Value& request, Reply reply);
  void abort(const Caller& caller, const Value& request, Reply reply);
  void terminate(const Caller& caller, const Value& request, Reply reply);
  // Streams the stored report chunks as events, a batch each time the last
  // is written, then answers with how many there were.
  void reports(const Caller& caller, const Value& request, Reply reply);
  void console(const Caller& caller, const Value& request, Reply reply);

 private:
  DeploymentEngine& engine_;
  ImageBuilds* builds_;
  Catalog& catalog_;
  Clouds& clouds_;
  EventLog& events_;
  const Clock& clock_;
  const Config& config_;
};

}  // namespace slipway::controller
