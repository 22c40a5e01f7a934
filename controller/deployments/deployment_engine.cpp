// The deployment life cycle: creation, state changes, abort, provisioning,
// finalizing. Machines coming and going, and timeouts, are in
// engine_machines.cpp; agent requests in engine_agents.cpp.
#include "controller/deployments/deployment_engine.h"

#include <algorithm>

#include "common/crypto.h"
#include "common/log.h"
#include "controller/store/store.h"

namespace slipway::controller {

namespace {

// Bytes of an abort reason kept.
constexpr size_t kMaxAbortReason = 1000;

std::string hostname_for(const std::string& instance) {
  std::string out = instance;
  std::replace(out.begin(), out.end(), '.', '-');
  return out;
}

DeploymentState next_state(DeploymentState s) {
  switch (s) {
    case DeploymentState::kInitializing:
      return DeploymentState::kProvisioning;
    case DeploymentState::kProvisioning:
      return DeploymentState::kExecuting;
    case DeploymentState::kExecuting:
      return DeploymentState::kSendingReports;
    case DeploymentState::kSendingReports:
      return DeploymentState::kReady;
    default:
      return DeploymentState::kFinalizing;
  }
}

}  // namespace

DeploymentEngine::DeploymentEngine(Store& store, const Clock& clock, EventLog& events,
                                   AgentLink& agents, Provisioner& provisioner, KeyKeeper& keys,
                                   ImageBuilds& builds, EngineSettings settings)
    : store_(store),
      clock_(clock),
      events_(events),
      agents_(agents),
      provisioner_(provisioner),
      keys_(keys),
      builds_(builds),
      settings_(settings),
      deployments_(store),
      parameters_(store, clock),
      barriers_(store),
      logs_(store, clock) {}

DeploymentEngine::~DeploymentEngine() {
  write_pending();
}

// ------------------------------------------------------------------ helpers

Deployment* DeploymentEngine::find_active(const std::string& id) {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second;
}

const Deployment* DeploymentEngine::active(const std::string& id) const {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second;
}

Instance* DeploymentEngine::instance_of(Deployment& d, const std::string& name) {
  auto it = d.instances.find(name);
  return it == d.instances.end() ? nullptr : &it->second;
}

bool DeploymentEngine::may_act(const Caller& caller, const Deployment& d) const {
  return caller.admin || caller.uid == d.owner_uid;
}

int64_t DeploymentEngine::deadline(int64_t timeout_ms) const {
  // At most a year: far beyond any deployment, and no overflow.
  constexpr int64_t kLongest = int64_t{366} * 24 * 3600 * 1000;
  return timeout_ms > 0 ? clock_.steady_ms() + std::min(timeout_ms, kLongest) : 0;
}

void DeploymentEngine::store_own(const std::string& deployment, const Status& written,
                                 const std::string& what) {
  if (written.ok()) return;
  ++store_failures_;
  LOG_ERROR("deployment %s: %s is not stored: %s", deployment.c_str(), what.c_str(),
            written.error().message().c_str());
}

void DeploymentEngine::save(const Deployment& d) {
  store_own(d.id, deployments_.save_state(d), "its state");
}

void DeploymentEngine::save(const Deployment& d, const Instance& instance) {
  store_own(d.id, deployments_.save_instance(d.id, instance), "instance " + instance.name);
}

void DeploymentEngine::set_builtin(const std::string& deployment, const std::string& key,
                                   const std::string& value) {
  store_own(deployment, parameters_.set(deployment, key, value), key + "=" + value);
}

void DeploymentEngine::notify(EngineNotice::Kind kind, const std::string& deployment,
                              const std::string& instance) {
  auto watchers = watchers_;  // a watcher may unsubscribe while called
  EngineNotice notice{kind, deployment, instance};
  for (auto& [id, watcher] : watchers) watcher(notice);
}

int DeploymentEngine::subscribe(std::function<void(const EngineNotice&)> watcher) {
  int id = next_watcher_++;
  watchers_[id] = std::move(watcher);
  return id;
}

void DeploymentEngine::unsubscribe(int id) {
  watchers_.erase(id);
}

void DeploymentEngine::broadcast_state(const Deployment& d) {
  proto::StateChanged message{state_name(d.state), d.aborted, d.abort_reason};
  for (const auto& [name, instance] : d.instances) {
    if (instance.status == InstanceStatus::kRunning)
      agents_.send(AgentIdentity{d.id, name}, message);
  }
}

void DeploymentEngine::refresh_node_parameters(Deployment& d, const std::string& node) {
  set_builtin(d.id, node + ":multiplicity", std::to_string(d.live(node).size()));
  set_builtin(d.id, node + ":ids", d.ids(node));
}

// ------------------------------------------------------------------ start

Status DeploymentEngine::start() {
  SLIPWAY_ASSIGN_OR_RETURN(auto loaded, deployments_.load_active());
  int64_t steady = clock_.steady_ms();
  int64_t wall = clock_.wall_ms();
  for (auto& d : loaded) {
    SLIPWAY_RETURN_IF_ERROR(parameters_.load(d.id));
    SLIPWAY_RETURN_IF_ERROR(barriers_.load(d.id));
    for (const auto& node : d.nodes) {
      for (const auto& [input, b] : node.bindings) {
        std::string source =
            b.node + (b.instance.empty() ? "" : "." + b.instance) + ":" + b.parameter;
        auto parsed = parse_parameter(source, "");
        if (!parsed.ok()) continue;
        for (auto& [name, instance] : d.instances) {
          if (instance.node == node.name) parameters_.map(d.id, parsed->key(), name + ":" + input);
        }
      }
    }
    d.state_since_steady = steady - std::max<int64_t>(0, wall - d.state_since);
    for (auto& [name, instance] : d.instances) {
      // A launch that was in flight: the machine may exist; its agent has
      // until the provisioning timeout to call back.
      if (instance.status == InstanceStatus::kLaunching) instance.status = InstanceStatus::kBooting;
      instance.launched_steady = steady;
    }
    std::string id = d.id;
    active_.emplace(id, std::move(d));
  }
  return ok_status();
}

void DeploymentEngine::resume() {
  std::vector<std::string> ids;
  for (const auto& [id, d] : active_) ids.push_back(id);
  for (const auto& id : ids) {
    Deployment& d = active_.at(id);
    LOG_INFO("carrying on with deployment %s (%s, %s)", id.c_str(), d.module.c_str(),
             state_name(d.state));
    if (d.state == DeploymentState::kProvisioning) {
      std::vector<std::string> pending;
      for (const auto& [name, instance] : d.instances) {
        if (instance.status == InstanceStatus::kPending) pending.push_back(name);
      }
      if (!pending.empty()) launch(d, pending);
    }
    if (d.state == DeploymentState::kFinalizing) start_finalizing(d);
    advance(d);
  }
}

std::set<std::string> DeploymentEngine::active_ids() const {
  std::set<std::string> ids;
  for (const auto& [id, d] : active_) ids.insert(id);
  return ids;
}

// ------------------------------------------------------------------ users

Result<std::string> DeploymentEngine::create(const Caller& caller, const DeploymentPlan& plan) {
  Deployment d;
  for (int attempt = 0;; ++attempt) {
    d.id = crypto::random_id(8);
    SLIPWAY_ASSIGN_OR_RETURN(auto existing, deployments_.load(d.id));
    if (!existing) break;
    if (attempt > 10) return Error(Code::kInternal, "cannot find a free deployment id");
  }
  d.module = plan.module;
  d.owner_uid = caller.uid;
  d.owner_name = caller.user;
  d.keep_running = plan.keep_running;
  d.timeout_ms = plan.timeout_ms;
  d.created_at = d.state_since = clock_.wall_ms();
  d.state_since_steady = clock_.steady_ms();
  d.nodes = plan.nodes;
  size_t machines = 0;
  for (const auto& node : d.nodes) {
    for (int64_t i = 1; i <= node.multiplicity; ++i) {
      Instance instance;
      instance.name = node.name + "." + std::to_string(i);
      instance.node = node.name;
      instance.index = i;
      instance.cloud = node.cloud;
      instance.machine_id = d.id + "-" + instance.name;
      d.instances[instance.name] = instance;
      ++machines;
    }
  }

  {
    StoreTransaction tx(store_);
    SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
    SLIPWAY_RETURN_IF_ERROR(deployments_.insert(d));
    SLIPWAY_RETURN_IF_ERROR(parameters_.define(d.id, "ss:state", state_name(d.state)));
    SLIPWAY_RETURN_IF_ERROR(parameters_.define(d.id, "ss:abort", ""));
    for (const auto& node : d.nodes) {
      SLIPWAY_RETURN_IF_ERROR(
          parameters_.define(d.id, node.name + ":multiplicity", std::to_string(node.multiplicity)));
      SLIPWAY_RETURN_IF_ERROR(parameters_.define(d.id, node.name + ":ids", d.ids(node.name)));
    }
    for (const auto& [instance_name, instance] : d.instances) {
      const NodePlan& node = *d.node(instance.node);
      const std::string& name = instance_name;  // clang 14's lambdas capture no bindings
      auto define = [&](const std::string& param, const std::optional<std::string>& value) {
        return parameters_.define(d.id, name + ":" + param, value);
      };
      for (const auto& builtin : kBuiltinParameters) {
        std::optional<std::string> initial;
        if (builtin.name == "instanceid")
          initial = instance.machine_id;
        else if (builtin.initial)
          initial = std::string(*builtin.initial);
        SLIPWAY_RETURN_IF_ERROR(define(std::string(builtin.name), initial));
      }
      const auto& values = plan.inputs.count(node.name) ? plan.inputs.at(node.name)
                                                        : std::map<std::string, std::string>();
      for (const auto& input : node.inputs) {
        auto v = values.find(input);
        SLIPWAY_RETURN_IF_ERROR(define(
            input, v != values.end() ? std::optional<std::string>(v->second) : std::nullopt));
      }
      for (const auto& output : node.outputs) SLIPWAY_RETURN_IF_ERROR(define(output, std::nullopt));
    }
    SLIPWAY_RETURN_IF_ERROR(tx.commit());
  }
  // Outputs mapped to inputs; a source that already has a value (web:ids)
  // is copied now.
  for (const auto& node : d.nodes) {
    for (const auto& [input, b] : node.bindings) {
      std::string source =
          b.node + (b.instance.empty() ? "" : "." + b.instance) + ":" + b.parameter;
      auto parsed = parse_parameter(source, "");
      if (!parsed.ok()) return parsed.error();
      for (const auto& [name, instance] : d.instances) {
        if (instance.node != node.name) continue;
        parameters_.map(d.id, parsed->key(), name + ":" + input);
        if (auto value = parameters_.get(d.id, parsed->key())) {
          SLIPWAY_RETURN_IF_ERROR(parameters_.set(d.id, name + ":" + input, *value));
        }
      }
    }
  }

  std::string id = d.id;
  events_.record(id, "deployment.created",
                 caller.user + " deployed " + d.module + " (" + std::to_string(machines) +
                     (machines == 1 ? " machine)" : " machines)"));
  Deployment& stored = active_.emplace(id, std::move(d)).first->second;
  enter_state(stored, DeploymentState::kProvisioning);
  advance(stored);
  return id;
}

Result<Deployment*> DeploymentEngine::acted_on(const Caller& caller, const std::string& id) {
  Deployment* d = find_active(id);
  if (d != nullptr && may_act(caller, *d)) return d;
  SLIPWAY_ASSIGN_OR_RETURN(Deployment past, find(caller, id));
  return Error(Code::kFailedPrecondition,
               "deployment " + id + " is already " + state_name(past.state));
}

Status DeploymentEngine::abort(const Caller& caller, const std::string& id,
                               const std::string& reason) {
  SLIPWAY_ASSIGN_OR_RETURN(Deployment * d, acted_on(caller, id));
  if (d->state == DeploymentState::kFinalizing) {
    return Error(Code::kFailedPrecondition, "deployment " + id + " is already finalizing");
  }
  raise_abort(*d, reason.empty() ? "aborted by " + caller.user : reason + " (" + caller.user + ")");
  return ok_status();
}

Status DeploymentEngine::terminate(const Caller& caller, const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(Deployment * d, acted_on(caller, id));
  if (d->terminate_requested || d->state == DeploymentState::kFinalizing) return ok_status();
  d->terminate_requested = true;
  save(*d);
  events_.record(id, "deployment.terminate", "terminate requested by " + caller.user);
  if (d->state != DeploymentState::kReady) {
    Error over(Code::kFailedPrecondition, "the deployment is being terminated");
    parameters_.fail_waits(id, over);
    barriers_.fail_all(id, over);
    enter_state(*d, DeploymentState::kFinalizing);
  }
  advance(*d);
  return ok_status();
}

Result<Deployment> DeploymentEngine::find(const Caller& caller, const std::string& id) {
  if (const Deployment* d = active(id)) {
    if (may_act(caller, *d)) return *d;
  } else {
    SLIPWAY_ASSIGN_OR_RETURN(auto stored, deployments_.load(id));
    if (stored && may_act(caller, *stored)) return std::move(*stored);
  }
  return Error(Code::kNotFound, "no deployment " + id);
}

Result<std::vector<Deployment>> DeploymentEngine::list(const Caller& caller) {
  SLIPWAY_ASSIGN_OR_RETURN(auto all,
                           deployments_.list(caller.admin ? -1 : static_cast<int64_t>(caller.uid)));
  for (auto& d : all) {
    if (const Deployment* live = active(d.id)) d = *live;  // fresher than the store
  }
  return all;
}

Result<std::map<std::string, int64_t>> DeploymentEngine::counts() {
  return deployments_.counts();
}

Status DeploymentEngine::set_parameter(const Caller& caller, const std::string& id,
                                       const std::string& key, const std::string& value) {
  SLIPWAY_ASSIGN_OR_RETURN(Deployment * d, acted_on(caller, id));
  SLIPWAY_ASSIGN_OR_RETURN(ParameterName p, parse_parameter(key, ""));
  if (p.index == 0) {
    return Error(Code::kPermissionDenied,
                 p.key() + " is kept by the controller; set an instance's parameter");
  }
  if (!d->instances.count(p.instance()))
    return Error(Code::kNotFound, "deployment " + id + " has no instance " + p.instance());
  if (is_controller_owned(p.name))
    return Error(Code::kPermissionDenied, p.name + " is kept by the controller");
  return parameters_.set(id, p.key(), value);
}

std::map<std::string, std::set<std::string>> DeploymentEngine::machines_in_use() const {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& [id, d] : active_) {
    for (const auto& [name, instance] : d.instances) {
      if (instance.status != InstanceStatus::kTerminated &&
          instance.status != InstanceStatus::kPending) {
        out[instance.cloud].insert(instance.machine_id);
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ states

void DeploymentEngine::enter_state(Deployment& d, DeploymentState state) {
  d.state = state;
  d.state_since = clock_.wall_ms();
  d.state_since_steady = clock_.steady_ms();
  if (state == DeploymentState::kReady) d.reached_ready = true;
  if (is_final(state)) d.ended_at = d.state_since;
  save(d);
  set_builtin(d.id, "ss:state", state_name(state));
  events_.record(
      d.id, "deployment.state",
      std::string(state_name(state)) + (d.aborted && is_final(state) ? ": " + d.abort_reason : ""));
  broadcast_state(d);
  notify(EngineNotice::Kind::kState, d.id);
  if (state == DeploymentState::kProvisioning) {
    std::vector<std::string> pending;
    for (const auto& [name, instance] : d.instances) {
      if (instance.status == InstanceStatus::kPending) pending.push_back(name);
    }
    launch(d, pending);
  } else if (state == DeploymentState::kFinalizing) {
    start_finalizing(d);
  }
}

void DeploymentEngine::advance(Deployment& d) {
  for (int guard = 0; guard < 16; ++guard) {
    switch (d.state) {
      case DeploymentState::kInitializing:
        return;
      case DeploymentState::kProvisioning:
      case DeploymentState::kExecuting:
      case DeploymentState::kSendingReports: {
        if (d.aborted && d.state != DeploymentState::kSendingReports) {
          enter_state(d, DeploymentState::kSendingReports);
          continue;
        }
        std::string name = state_name(d.state);
        auto live = d.live();
        bool all_done = std::all_of(live.begin(), live.end(),
                                    [&](const Instance* i) { return i->state_done == name; });
        if (!all_done) return;
        enter_state(d, next_state(d.state));
        continue;
      }
      case DeploymentState::kReady: {
        if (holds_for_snapshot(d)) return;
        bool finalize = d.terminate_requested || d.keep_running == KeepRunning::kNever ||
                        (d.keep_running == KeepRunning::kOnSuccess && d.aborted) ||
                        (d.keep_running == KeepRunning::kOnError && !d.aborted);
        if (!finalize) return;
        enter_state(d, DeploymentState::kFinalizing);
        continue;
      }
      case DeploymentState::kFinalizing: {
        bool machines_left = !launching_[d.id].empty() || !terminating_[d.id].empty();
        if (machines_left) return;
        finish(d);
        return;  // d is gone
      }
      default:
        return;
    }
  }
}

void DeploymentEngine::raise_abort(Deployment& d, const std::string& full_reason) {
  // A reason is a sentence for people (often a script's stderr line): keep
  // the first 1000 bytes, cut on a character boundary.
  std::string reason = full_reason;
  if (reason.size() > kMaxAbortReason) {
    size_t cut = kMaxAbortReason;
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) --cut;
    reason = reason.substr(0, cut) + "...";
  }
  if (d.aborted) {
    LOG_INFO("deployment %s: already aborted; also: %s", d.id.c_str(), reason.c_str());
    advance(d);  // what failed may have been what the current state waits for
    return;
  }
  d.aborted = true;
  d.abort_reason = reason;
  save(d);
  set_builtin(d.id, "ss:abort", reason);
  events_.record(d.id, "deployment.aborted", reason);
  Error aborted(Code::kAborted, "the deployment was aborted: " + reason);
  parameters_.fail_waits(d.id, aborted);
  barriers_.fail_all(d.id, aborted);
  broadcast_state(d);
  notify(EngineNotice::Kind::kState, d.id);
  advance(d);
}

void DeploymentEngine::launch(Deployment& d, const std::vector<std::string>& names) {
  std::map<std::string, std::vector<LaunchOrder>> by_cloud;
  int64_t now = clock_.steady_ms();
  for (const auto& name : names) {
    Instance& instance = d.instances.at(name);
    const NodePlan& node = *d.node(instance.node);
    auto pair = crypto::generate_keypair();
    if (!pair.ok()) {
      fail_instance(d, instance, pair.error().message());
      continue;
    }
    // A fresh key for every launch: a key from a launch that may have
    // happened before a crash is not trusted again.
    if (!instance.public_key.empty()) keys_.revoke(instance.public_key, "replaced at relaunch");
    Status admitted = keys_.admit(pair->public_key, AgentIdentity{d.id, name});
    if (!admitted.ok()) {
      fail_instance(d, instance, "cannot admit its key: " + admitted.error().message());
      continue;
    }
    instance.public_key = pair->public_key;
    instance.status = InstanceStatus::kLaunching;
    instance.phase = InstancePhase::kLaunching;
    instance.launched_steady = now;
    save(d, instance);
    LaunchOrder order;
    order.cloud = instance.cloud;
    order.spec.machine_id = instance.machine_id;
    order.spec.deployment = d.id;
    order.spec.instance = name;
    order.spec.hostname = hostname_for(name);
    order.spec.context.public_key = pair->public_key;
    order.spec.context.secret_key = pair->secret_key;
    order.spec.context.deployment = d.id;
    order.spec.context.instance = name;
    order.spec.reference = node.reference;
    order.spec.platform = node.plan.platform;
    order.spec.resources = connectors::Resources{node.resources.cpus, node.resources.memory_mb,
                                                 node.resources.disk_gb};
    crypto::wipe(pair->secret_key);
    launching_[d.id].insert(name);
    set_builtin(d.id, name + ":vmstate", "launching");
    by_cloud[instance.cloud].push_back(std::move(order));
  }
  for (auto& [cloud, orders] : by_cloud) provisioner_.launch(d.id, std::move(orders));
  notify(EngineNotice::Kind::kInstance, d.id);
}

void DeploymentEngine::start_finalizing(Deployment& d) {
  std::map<std::string, std::vector<TerminateOrder>> by_cloud;
  for (auto& [name, instance] : d.instances) {
    if (instance.status == InstanceStatus::kTerminated) continue;
    if (instance.status == InstanceStatus::kPending) {
      instance.status = InstanceStatus::kTerminated;
      save(d, instance);
      continue;
    }
    if (launching_[d.id].count(name)) continue;  // terminated when its launch answers
    if (terminating_[d.id].count(name)) continue;
    instance.phase = InstancePhase::kTerminating;
    save(d, instance);
    terminating_[d.id].insert(name);
    by_cloud[instance.cloud].push_back(TerminateOrder{name, instance.cloud, instance.machine_id});
  }
  for (auto& [cloud, orders] : by_cloud) provisioner_.terminate(d.id, std::move(orders));
  notify(EngineNotice::Kind::kInstance, d.id);
}

void DeploymentEngine::finish(Deployment& d) {
  DeploymentState final_state = d.aborted ? DeploymentState::kAborted
                                : d.terminate_requested && !d.reached_ready
                                    ? DeploymentState::kCancelled
                                    : DeploymentState::kDone;
  enter_state(d, final_state);
  end_build(d);
  for (const auto& [name, instance] : d.instances) {
    if (!instance.public_key.empty())
      keys_.revoke(instance.public_key, "deployment " + d.id + " is over");
  }
  parameters_.forget(d.id);
  barriers_.forget(d.id);
  const std::string prefix = d.id + "/";
  for (auto it = agent_waits_.lower_bound({prefix, 0});
       it != agent_waits_.end() && it->first.first.compare(0, prefix.size(), prefix) == 0;) {
    it = agent_waits_.erase(it);
  }
  for (const auto& name : launching_[d.id]) {
    const Instance* instance = instance_of(d, name);
    if (instance != nullptr) abandoned_[{d.id, name}] = instance->cloud;
  }
  launching_.erase(d.id);
  terminating_.erase(d.id);
  std::string id = d.id;
  active_.erase(id);  // d is gone from here on
}

}  // namespace slipway::controller
