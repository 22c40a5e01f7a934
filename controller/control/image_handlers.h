// Control operations of the image factory (docs/images.md): image.build,
// image.list, image.rm.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include "common/clock.h"
#include "common/config.h"
#include "controller/catalog/catalog.h"
#include "controller/catalog/image_builds.h"
#include "controller/control/clouds.h"
#include "controller/control/control_server.h"
#include "controller/deployments/deployment_engine.h"
#include "controller/deployments/event_log.h"

namespace slipway::controller {

class ImageHandlers {
 public:
  ImageHandlers(DeploymentEngine& engine, Catalog& catalog, ImageBuilds& builds, Clouds& clouds,
                EventLog& events, const Config& config)
      : engine_(engine),
        catalog_(catalog),
        builds_(builds),
        clouds_(clouds),
        events_(events),
        config_(config) {}

  void register_with(ControlServer& server);

  // Starts a build's run; answers with its deployment id at once. Only the
  // image's owner or an admin may build it or remove its builds: a build is
  // what every deployment of the image boots.
  void build(const Caller& caller, const Value& request, Reply reply);
  // The builds of the images the caller may see, each with its state:
  // building, ready, failed, or stale (ready, but no longer what the
  // image's latest version asks).
  void list(const Caller& caller, const Value& request, Reply reply);
  void remove(const Caller& caller, const Value& request, Reply reply);

 private:
  // kNotFound unless the caller may see `name`; kPermissionDenied unless
  // it may change what its machines boot.
  Status may_build(const Caller& caller, const std::string& name);
  // "stale" or the build's own state.
  std::string shown_state(const Caller& caller, const ImageBuild& build);

  DeploymentEngine& engine_;
  Catalog& catalog_;
  ImageBuilds& builds_;
  Clouds& clouds_;
  EventLog& events_;
  const Config& config_;
};

// A build as image.list shows it.
Value build_view(const ImageBuild& build, const std::string& state);

}  // namespace slipway::controller
