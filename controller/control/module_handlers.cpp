#include "controller/control/module_handlers.h"

#include "controller/control/control_protocol.h"

namespace slipway::controller {

namespace cp = control_protocol;

namespace {

Value summary(const StoredModule& m, const ModuleAccess& access) {
  return Value::object()
      .set("name", m.name)
      .set("version", m.version)
      .set("kind", m.module.kind == ModuleKind::kImage ? "image" : "deployment")
      .set("description", m.module.description)
      .set("owner", m.owner_name)
      .set("visibility", visibility_name(access.visibility))
      .set("group", access.group)
      .set("created_at", m.created_at);
}

}  // namespace

void ModuleHandlers::register_with(ControlServer& server) {
  server.handle(cp::kModulePush, *this, &ModuleHandlers::push);
  server.handle(cp::kModuleList, *this, &ModuleHandlers::list);
  server.handle(cp::kModuleShow, *this, &ModuleHandlers::show);
  server.handle(cp::kModuleVersions, *this, &ModuleHandlers::versions);
  server.handle(cp::kModuleRm, *this, &ModuleHandlers::remove);
  server.handle(cp::kModuleShare, *this, &ModuleHandlers::share);
}

void ModuleHandlers::push(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_push(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  std::vector<SourceFile> files;
  for (const auto& f : decoded->files) files.push_back(SourceFile{f.path, f.content});
  auto pushed = catalog_.push(caller, files);
  if (!pushed.ok()) return reply.fail(pushed.error());
  Value out = Value::array();
  for (const auto& p : *pushed) {
    out.push(
        Value::object().set("name", p.name).set("version", p.version).set("created", p.created));
    if (p.created) {
      events_.record("", "module.pushed",
                     caller.user + " pushed " + p.name + "@" + std::to_string(p.version));
    }
  }
  reply.ok(std::move(out));
}

void ModuleHandlers::list(const Caller& caller, const Value&, Reply reply) {
  auto modules = catalog_.list(caller);
  if (!modules.ok()) return reply.fail(modules.error());
  Value out = Value::array();
  for (const auto& m : *modules) {
    auto access = catalog_.access(m.name);
    if (access.ok()) out.push(summary(m, *access));
  }
  reply.ok(std::move(out));
}

void ModuleHandlers::show(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_module(cp::kModuleShow, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto m = catalog_.get(caller, decoded->module);
  if (!m.ok()) return reply.fail(m.error());
  auto access = catalog_.access(m->name);
  if (!access.ok()) return reply.fail(access.error());
  reply.ok(summary(*m, *access).set("content", m->content).set("digest", m->digest));
}

void ModuleHandlers::versions(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_name(cp::kModuleVersions, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto all = catalog_.versions(caller, decoded->name);
  if (!all.ok()) return reply.fail(all.error());
  Value out = Value::array();
  for (const auto& m : *all) {
    out.push(Value::object()
                 .set("version", m.version)
                 .set("created_at", m.created_at)
                 .set("owner", m.owner_name)
                 .set("digest", m.digest.substr(0, 12)));
  }
  reply.ok(std::move(out));
}

void ModuleHandlers::remove(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_module(cp::kModuleRm, request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto removed = catalog_.remove(caller, decoded->module);
  if (!removed.ok()) return reply.fail(removed.error());
  Value out = Value::array();
  for (const auto& r : *removed) out.push(r);
  events_.record("", "module.removed", caller.user + " removed " + decoded->module);
  // Builds made of a removed version go with it.
  for (const auto& r : *removed) {
    auto ref = split_reference(r);
    if (builds_ == nullptr || !ref.ok()) continue;
    auto gone = builds_->remove_version(ref->name, ref->version);
    if (!gone.ok()) return reply.fail(gone.error().wrap("removing the builds of " + r));
  }
  reply.ok(Value::object().set("removed", std::move(out)));
}

void ModuleHandlers::share(const Caller& caller, const Value& request, Reply reply) {
  auto decoded = cp::decode_share(request);
  if (!decoded.ok()) return reply.fail(decoded.error());
  auto visibility = parse_visibility(decoded->visibility);
  if (!visibility.ok())
    return reply.fail(Error(Code::kUsage, "share with --public, --group GROUP or --private"));
  Status shared = catalog_.share(caller, decoded->name, *visibility, decoded->group);
  if (!shared.ok()) return reply.fail(shared.error());
  reply.ok(Value::object()
               .set("name", decoded->name)
               .set("visibility", decoded->visibility)
               .set("group", decoded->group));
}

}  // namespace slipway::controller
