#include "controller/catalog/image_chain.h"

#include <algorithm>
#include <set>

#include "common/crypto.h"
#include "common/value.h"

namespace slipway::controller {

Result<ImageChain> resolve_image_chain(const std::string& reference, const ModuleLookup& lookup) {
  ImageChain chain;
  std::vector<std::string> path;
  std::string next = reference;
  while (!next.empty()) {
    SLIPWAY_ASSIGN_OR_RETURN(ModuleRef ref, split_reference(next));
    const std::string& name = ref.name;
    const int64_t version = ref.version;
    if (std::find(path.begin(), path.end(), name) != path.end()) {
      std::string cycle;
      for (const auto& p : path) cycle += p + " -> ";
      return Error(Code::kInvalidArgument, "the parent chain has a cycle: " + cycle + name);
    }
    if (path.size() >= 32)
      return Error(Code::kInvalidArgument,
                   "the parent chain of " + reference + " is deeper than 32");
    path.push_back(name);
    SLIPWAY_ASSIGN_OR_RETURN(std::optional<StoredModule> found, lookup(name, version));
    if (!found) {
      return Error(Code::kNotFound, version == 0
                                        ? "no module named " + name
                                        : "no module " + name + "@" + std::to_string(version));
    }
    if (found->module.kind != ModuleKind::kImage) {
      return Error(Code::kInvalidArgument, name + " is a deployment, not an image");
    }
    next = found->module.image.parent;
    chain.modules_.push_back(std::move(*found));
  }
  std::reverse(chain.modules_.begin(), chain.modules_.end());
  return chain;
}

namespace {

proto::Step script_step(const StoredModule& m, const std::string& phase, const std::string& state,
                        const std::string& id_suffix = "") {
  proto::Step step;
  step.id = phase + id_suffix + ":" + m.ref();
  step.state = state;
  step.kind = "script";
  step.name = phase;
  step.module = m.ref();
  step.body = m.module.image.scripts.at(phase);
  return step;
}

// The `phase` scripts of modules [from, end), parents first.
void add_scripts(proto::Plan& plan, const std::vector<StoredModule>& modules, size_t from,
                 const char* phase, const char* state) {
  for (size_t i = from; i < modules.size(); ++i) {
    if (modules[i].module.image.scripts.count(phase))
      plan.steps.push_back(script_step(modules[i], phase, state));
  }
}

// The packages of modules [from, end), each once, leaving out those of the
// modules before `from` (already installed).
std::vector<std::string> packages_of(const std::vector<StoredModule>& modules, size_t from) {
  std::set<std::string> seen;
  for (size_t i = 0; i < from && i < modules.size(); ++i) {
    for (const auto& p : modules[i].module.image.packages) seen.insert(p);
  }
  std::vector<std::string> out;
  for (size_t i = from; i < modules.size(); ++i) {
    for (const auto& p : modules[i].module.image.packages) {
      if (seen.insert(p).second) out.push_back(p);
    }
  }
  return out;
}

// Pre-install, packages and post-install of modules [from, end).
void add_install_steps(proto::Plan& plan, const std::vector<StoredModule>& modules, size_t from,
                       const StoredModule& image) {
  add_scripts(plan, modules, from, "pre-install", "Executing");
  std::vector<std::string> packages = packages_of(modules, from);
  if (!packages.empty()) {
    proto::Step step;
    step.id = "packages";
    step.state = "Executing";
    step.kind = "packages";
    step.name = "packages";
    step.module = image.ref();
    step.packages = packages;
    plan.steps.push_back(step);
  }
  add_scripts(plan, modules, from, "post-install", "Executing");
}

}  // namespace

std::vector<std::string> ImageChain::packages() const {
  return packages_of(modules_, 0);
}

std::vector<InputParameter> ImageChain::inputs() const {
  std::vector<InputParameter> out;
  for (const auto& m : modules_) {
    for (const auto& in : m.module.image.inputs) {
      auto it =
          std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.name == in.name; });
      if (it == out.end()) {
        out.push_back(in);
      } else {
        if (in.default_value) it->default_value = in.default_value;
        if (!in.description.empty()) it->description = in.description;
      }
    }
  }
  return out;
}

const InputParameter* ImageChain::input(const std::string& name) const {
  const InputParameter* found = nullptr;
  for (const auto& m : modules_) {
    for (const auto& in : m.module.image.inputs) {
      if (in.name == name) found = &in;
    }
  }
  return found;
}

std::vector<std::string> ImageChain::outputs() const {
  std::vector<std::string> out;
  for (const auto& m : modules_) {
    for (const auto& o : m.module.image.outputs) {
      if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(o);
    }
  }
  return out;
}

bool ImageChain::has_output(const std::string& name) const {
  auto all = outputs();
  return std::find(all.begin(), all.end(), name) != all.end();
}

ImageResources ImageChain::resources() const {
  ImageResources r;
  for (const auto& m : modules_) {
    const auto& image = m.module.image;
    if (image.cpus) r.cpus = *image.cpus;
    if (image.memory_mb) r.memory_mb = *image.memory_mb;
    if (image.disk_gb) r.disk_gb = *image.disk_gb;
  }
  return r;
}

std::vector<std::string> ImageChain::refs() const {
  std::vector<std::string> out;
  for (const auto& m : modules_) out.push_back(m.ref());
  return out;
}

proto::Plan ImageChain::plan(size_t built) const {
  proto::Plan plan;
  plan.platform = platform();
  add_install_steps(plan, modules_, built, image());
  add_scripts(plan, modules_, 0, "deployment", "Executing");
  add_scripts(plan, modules_, 0, "report", "SendingReports");
  return plan;
}

proto::Plan ImageChain::build_plan(size_t built) const {
  proto::Plan plan;
  plan.platform = platform();
  add_install_steps(plan, modules_, built, image());
  proto::Step sync;
  sync.id = "post-install:sync:" + image().ref();
  sync.state = "Executing";
  sync.kind = "script";
  sync.name = "post-install";
  sync.module = image().ref();
  sync.body = "# Written by slipway: the disk holds everything before the snapshot.\nsync\n";
  plan.steps.push_back(sync);
  return plan;
}

std::string ImageChain::build_hash(size_t depth) const {
  Value what = Value::array();
  for (size_t i = 0; i < depth && i < modules_.size(); ++i) {
    const auto& image = modules_[i].module.image;
    Value m = Value::object();
    m.set("name", modules_[i].name);
    if (i == 0) m.set("platform", image.platform).set("reference", image.reference);
    Value packages = Value::array();
    for (const auto& p : image.packages) packages.push(p);
    m.set("packages", packages);
    for (const char* phase : {"pre-install", "post-install"}) {
      auto it = image.scripts.find(phase);
      m.set(phase, it == image.scripts.end() ? std::string() : it->second);
    }
    what.push(m);
  }
  return crypto::digest_hex(what.pack());
}

std::vector<proto::Step> ImageChain::on_scale_steps(int64_t round) const {
  std::vector<proto::Step> steps;
  for (const auto& m : modules_) {
    if (m.module.image.scripts.count("on-scale")) {
      steps.push_back(script_step(m, "on-scale", "Ready", "#" + std::to_string(round)));
    }
  }
  return steps;
}

}  // namespace slipway::controller
