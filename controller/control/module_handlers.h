// Control operations on the module catalog: module.push, module.list,
// module.show, module.versions, module.rm, module.share.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include "controller/catalog/catalog.h"
#include "controller/catalog/image_builds.h"
#include "controller/control/control_server.h"
#include "controller/deployments/event_log.h"

namespace slipway::controller {

class ModuleHandlers {
 public:
  // With `builds`, removing a module version removes its builds.
  ModuleHandlers(Catalog& catalog, EventLog& events, ImageBuilds* builds = nullptr)
      : catalog_(catalog), events_(events), builds_(builds) {}

  void register_with(ControlServer& server);

  // Records a module.pushed event for each version it made.
  void push(const Caller& caller, const Value& request, Reply reply);
  void list(const Caller& caller, const Value& request, Reply reply);
  void show(const Caller& caller, const Value& request, Reply reply);
  void versions(const Caller& caller, const Value& request, Reply reply);
  void remove(const Caller& caller, const Value& request, Reply reply);
  void share(const Caller& caller, const Value& request, Reply reply);

 private:
  Catalog& catalog_;
  EventLog& events_;
  ImageBuilds* builds_;
};

}  // namespace slipway::controller
