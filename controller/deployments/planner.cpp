#include "controller/deployments/planner.h"

#include <set>

#include "common/protocol.h"
#include "common/value.h"
#include "controller/catalog/image_chain.h"

namespace slipway::controller {

std::string node_name_for_image(const std::string& image_name) {
  std::string last = image_name.substr(image_name.rfind('/') + 1);
  std::string out;
  for (char c : last) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    out += ok ? c : '-';
  }
  if (out.empty() || !(out[0] >= 'a' && out[0] <= 'z')) out = "n" + out;
  if (out.size() > 48) out.resize(48);
  return out;
}

namespace {

// Of proto::kMaxMessageSize (4 MiB), what one node's plan may use.
constexpr size_t kMaxPlanBytes = 3584u << 10;

Error invalid(const std::string& message) {
  return Error(Code::kInvalidArgument, message);
}

// "NODE:KEY=VALUE"
Status parse_assignment(const std::string& text, std::string* node, std::string* key,
                        std::string* value) {
  size_t eq = text.find('=');
  size_t colon = text.find(':');
  if (eq == std::string::npos || colon == std::string::npos || colon > eq) {
    return Error(Code::kUsage, "-p " + text + ": write -p NODE:KEY=VALUE");
  }
  *node = text.substr(0, colon);
  *key = text.substr(colon + 1, eq - colon - 1);
  *value = text.substr(eq + 1);
  if (!valid_node_name(*node) || !valid_parameter_name(*key)) {
    return Error(Code::kUsage, "-p " + text + ": write -p NODE:KEY=VALUE");
  }
  return ok_status();
}

}  // namespace

Result<DeploymentPlan> plan_deployment(const Caller& caller, const DeployRequest& request,
                                       Catalog& catalog, const Config& config,
                                       ImageBuilds* builds) {
  SLIPWAY_ASSIGN_OR_RETURN(StoredModule module, catalog.get(caller, request.module));
  ModuleLookup lookup = catalog.lookup_for(caller);
  DeploymentPlan plan;
  plan.module = module.ref();

  // The nodes: those of a deployment module, or one node for an image.
  std::vector<NodeDefinition> nodes;
  if (module.module.kind == ModuleKind::kDeployment) {
    nodes = module.module.nodes;
  } else {
    NodeDefinition only;
    only.name = node_name_for_image(module.name);
    only.image = module.ref();
    nodes.push_back(only);
  }
  std::set<std::string> names;
  for (const auto& n : nodes) names.insert(n.name);
  for (const auto& [node, m] : request.multiplicities) {
    if (!names.count(node))
      return invalid("--multiplicity " + node + "=" + std::to_string(m) + ": " + plan.module +
                     " has no node " + node);
    if (m < 1 || m > 1000)
      return invalid("--multiplicity " + node + ": must be between 1 and 1000");
  }
  for (const auto& [node, cloud] : request.node_clouds) {
    if (!names.count(node))
      return invalid("--node-cloud " + node + "=" + cloud + ": " + plan.module + " has no node " +
                     node);
  }
  if (!request.keep_running.empty()) {
    auto keep_running = parse_keep_running(request.keep_running);
    if (!keep_running.ok())
      return Error(Code::kUsage, "--keep-running must be always, on-success, on-error or never");
    plan.keep_running = *keep_running;
  }
  if (request.timeout_ms < 0) return Error(Code::kUsage, "--timeout must be positive");
  plan.timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : config.deployment_timeout.count();

  std::map<std::string, ImageChain> chains;
  for (auto& n : nodes) {
    auto chain = resolve_image_chain(n.image, lookup);
    if (!chain.ok()) return chain.error().wrap("node " + n.name);
    NodePlan p;
    p.name = n.name;
    p.image = chain->image().ref();
    p.chain = chain->refs();
    p.multiplicity =
        request.multiplicities.count(n.name) ? request.multiplicities.at(n.name) : n.multiplicity;
    p.max_provisioning_failures = n.max_provisioning_failures;
    if (p.max_provisioning_failures >= p.multiplicity)
      p.max_provisioning_failures = p.multiplicity - 1;
    p.cloud = request.node_clouds.count(n.name) ? request.node_clouds.at(n.name)
              : !n.cloud.empty()                ? n.cloud
              : !request.cloud.empty()          ? request.cloud
                                                : config.default_cloud;
    const CloudConfig* cloud = config.cloud(p.cloud);
    if (cloud == nullptr) {
      std::string known;
      for (const auto& c : config.clouds) known += (known.empty() ? "" : ", ") + c.name;
      return Error(Code::kNotFound, "node " + n.name + ": there is no cloud named " + p.cloud +
                                        " (configured: " + known + ")");
    }
    if (!chain->reference().has(cloud->connector)) {
      return invalid("node " + n.name + ": image " + chain->root().name + " has no reference for " +
                     cloud->connector + " machines (cloud " + p.cloud +
                     "); it has one for: " + [&] {
                       std::string have;
                       for (const auto& [k, v] : chain->reference().fields())
                         have += (have.empty() ? "" : ", ") + k;
                       return have;
                     }());
    }
    p.reference = chain->reference()[cloud->connector];
    size_t built = 0;
    if (builds != nullptr) {
      auto usable = builds->usable(*chain, chain->modules().size(), p.cloud);
      if (!usable.ok()) return usable.error().wrap("node " + n.name);
      if (*usable) {
        p.reference = (*usable)->reference;
        p.boots_build = (*usable)->id;
        p.boots_image = (*usable)->image;
        built = (*usable)->depth;
      }
    }
    p.plan = chain->plan(built);
    p.on_scale = chain->on_scale_steps(0);
    p.resources = chain->resources();
    for (const auto& in : chain->inputs()) p.inputs.push_back(in.name);
    p.outputs = chain->outputs();
    for (const auto& [input, binding] : n.inputs) {
      if (!binding.literal) p.bindings[input] = binding;
    }
    // Defaults, then literals of the deployment.
    auto& values = plan.inputs[n.name];
    for (const auto& in : chain->inputs()) {
      if (in.default_value) values[in.name] = *in.default_value;
    }
    for (const auto& [input, binding] : n.inputs) {
      if (binding.literal) values[input] = binding.value;
    }
    chains.emplace(n.name, std::move(*chain));
    plan.nodes.push_back(std::move(p));
  }

  // Each machine's welcome carries its node's plan and must fit in one
  // message, with room for the steps it completed.
  for (const auto& p : plan.nodes) {
    proto::Welcome welcome;
    welcome.plan = p.plan;
    size_t size = proto::encode(welcome).size();
    if (size > kMaxPlanBytes) {
      return invalid("node " + p.name + ": its recipe (scripts and packages of " + p.image +
                     " and its parents) is " + std::to_string(size >> 10) + " KiB; at most " +
                     std::to_string(kMaxPlanBytes >> 10) + " KiB");
    }
  }

  int64_t instances = 0;
  for (const auto& p : plan.nodes) instances += p.multiplicity;
  if (instances > kMaxInstances) {
    return invalid("a deployment may have at most " + std::to_string(kMaxInstances) +
                   " instances in all; this one has " + std::to_string(instances));
  }

  // Deploy-time values.
  for (const auto& text : request.parameters) {
    std::string node, key, value;
    SLIPWAY_RETURN_IF_ERROR(parse_assignment(text, &node, &key, &value));
    if (!names.count(node))
      return invalid("-p " + text + ": " + plan.module + " has no node " + node);
    const ImageChain& chain = chains.at(node);
    if (chain.input(key) == nullptr) {
      return invalid("-p " + text + ": node " + node + " (" + chain.image().name +
                     ") has no input " + key);
    }
    if (value.size() > proto::kMaxValueSize || !is_valid_utf8(value)) {
      return invalid("-p " + text.substr(0, 64) + ": a value is UTF-8 text of at most 64 KiB");
    }
    plan.inputs[node][key] = value;
  }

  // Every input needs a value or a mapping.
  for (const auto& p : plan.nodes) {
    for (const auto& input : p.inputs) {
      if (!request.for_build && !plan.inputs[p.name].count(input) && !p.bindings.count(input)) {
        return invalid("node " + p.name + ": input " + input + " has no value; give one with -p " +
                       p.name + ":" + input + "=VALUE");
      }
    }
    for (const auto& [input, binding] : p.bindings) {
      if (!binding.instance.empty()) {
        for (const auto& other : plan.nodes) {
          if (other.name == binding.node && binding.instance_number() > other.multiplicity) {
            return invalid("node " + p.name + ": input " + input + " is mapped to " + binding.node +
                           "." + binding.instance + ", but " + binding.node + " has " +
                           std::to_string(other.multiplicity) + " instance(s)");
          }
        }
      }
    }
  }
  return plan;
}

Result<BuildPlan> plan_build(const Caller& caller, const std::string& module,
                             const std::string& cloud, Catalog& catalog, const Config& config,
                             ImageBuilds& builds) {
  SLIPWAY_ASSIGN_OR_RETURN(StoredModule found, catalog.get(caller, module));
  if (found.module.kind != ModuleKind::kImage) {
    return invalid(found.ref() + " is a deployment: build the images of its nodes");
  }
  SLIPWAY_ASSIGN_OR_RETURN(ImageChain chain,
                           resolve_image_chain(found.ref(), catalog.lookup_for(caller)));
  if (chain.modules().size() < 2) {
    return invalid(found.ref() +
                   " is a reference image: there is nothing to build (build an image derived "
                   "from it)");
  }
  DeployRequest request;
  request.module = found.ref();
  request.cloud = cloud;
  request.keep_running = "never";
  request.for_build = true;
  SLIPWAY_ASSIGN_OR_RETURN(DeploymentPlan plan,
                           plan_deployment(caller, request, catalog, config, nullptr));
  NodePlan& node = plan.nodes.front();
  SLIPWAY_ASSIGN_OR_RETURN(auto base, builds.usable(chain, chain.modules().size() - 1, node.cloud));
  size_t built = 0;
  if (base) {
    node.reference = base->reference;
    node.boots_build = base->id;
    node.boots_image = base->image;
    built = base->depth;
  }
  node.plan = chain.build_plan(built);
  node.on_scale.clear();
  return BuildPlan{std::move(plan), std::move(chain), std::move(base)};
}

}  // namespace slipway::controller
