#include "controller/control/image_handlers.h"

#include "controller/control/control_protocol.h"
#include "controller/deployments/planner.h"

namespace slipway::controller {

namespace cp = control_protocol;

Value build_view(const ImageBuild& b, const std::string& state) {
  return Value::object()
      .set("id", b.id)
      .set("image", b.ref())
      .set("name", b.name)
      .set("version", b.version)
      .set("cloud", b.cloud)
      .set("state", state)
      .set("size_bytes", b.size_bytes)
      .set("created_at", b.created_at)
      .set("finished_at", b.finished_at)
      .set("build_ms", b.finished_at > 0 ? b.finished_at - b.created_at : 0)
      .set("deployment", b.deployment)
      .set("base", b.base)
      .set("error", b.error);
}

void ImageHandlers::register_with(ControlServer& server) {
  server.handle(cp::kImageBuild, *this, &ImageHandlers::build);
  server.handle(cp::kImageList, *this, &ImageHandlers::list);
  server.handle(cp::kImageRm, *this, &ImageHandlers::remove);
}

Status ImageHandlers::may_build(const Caller& caller, const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(StoredModule module, catalog_.get(caller, name));
  if (caller.admin || module.owner_uid == caller.uid) return ok_status();
  return Error(Code::kPermissionDenied, "only the owner of " + module.name + " (" +
                                            module.owner_name +
                                            ") or an admin may build it or remove its builds");
}

void ImageHandlers::build(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_image(cp::kImageBuild, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  if (Status s = may_build(caller, decoded->name); !s.ok()) return reply.fail(s.error());
  const std::string cloud = decoded->cloud.empty() ? config_.default_cloud : decoded->cloud;
  CloudState state = clouds_.state(cloud);
  if (state.phase == CloudState::Phase::kUnavailable) {
    return reply.fail(Error(Code::kUnavailable, "cloud " + cloud + " is not available: " + state.why));
  }
  auto plan = plan_build(caller, decoded->name, cloud, catalog_, config_, builds_);
  if (!plan.ok()) return reply.fail(plan.error());
  if (Status s = clouds_.check_snapshot(cloud, plan->plan.nodes.front().reference); !s.ok()) {
    return reply.fail(s.error());
  }
  auto build = builds_.begin(plan->chain, cloud, plan->base);
  if (!build.ok()) return reply.fail(build.error());
  plan->plan.nodes.front().builds = build->id;
  auto id = engine_.create(caller, plan->plan);
  if (!id.ok()) {
    (void)builds_.failed(build->id, id.error().message());
    return reply.fail(id.error());
  }
  if (Status s = builds_.attach(build->id, *id); !s.ok()) return reply.fail(s.error());
  events_.record(*id, "image.build",
                 caller.user + " builds " + build->ref() + " on " + cloud +
                     (plan->base ? " from the build of " + plan->base->image : ""));
  reply.ok(Value::object()
               .set("id", *id)
               .set("build", build->id)
               .set("image", build->ref())
               .set("cloud", cloud)
               .set("base", plan->base ? plan->base->image : std::string()));
}

std::string ImageHandlers::shown_state(const Caller& caller, const ImageBuild& b) {
  if (b.state != BuildState::kReady) return build_state_name(b.state);
  auto chain = resolve_image_chain(b.name, catalog_.lookup_for(caller));
  if (!chain.ok()) return "stale";
  auto fresh = builds_.fresh(b, *chain);
  return fresh.ok() && *fresh ? "ready" : "stale";
}

void ImageHandlers::list(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_image(cp::kImageList, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  if (!decoded->name.empty()) {
    auto module = catalog_.get(caller, decoded->name);
    if (!module.ok()) return reply.fail(module.error());
  }
  auto builds = builds_.list(decoded->name);
  if (!builds.ok()) return reply.fail(builds.error());
  Value out = Value::array();
  for (const auto& b : *builds) {
    if (!catalog_.get(caller, b.name).ok()) continue;  // not the caller's to see
    out.push(build_view(b, shown_state(caller, b)));
  }
  reply.ok(std::move(out));
}

void ImageHandlers::remove(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_image(cp::kImageRm, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  if (Status s = may_build(caller, decoded->name); !s.ok()) return reply.fail(s.error());
  auto removed = builds_.remove(decoded->name, decoded->cloud);
  if (!removed.ok()) return reply.fail(removed.error());
  if (removed->empty()) {
    return reply.fail(Error(Code::kNotFound,
                            decoded->name + " has no build" +
                                (decoded->cloud.empty() ? "" : " on cloud " + decoded->cloud)));
  }
  Value out = Value::array();
  int64_t bytes = 0;
  for (const auto& b : *removed) {
    out.push(b.id);
    bytes += b.size_bytes;
  }
  events_.record("", "image.removed",
                 caller.user + " removed " + std::to_string(removed->size()) + " build(s) of " +
                     decoded->name);
  reply.ok(Value::object().set("removed", std::move(out)).set("freed_bytes", bytes));
}

}  // namespace slipway::controller
