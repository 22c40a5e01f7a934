// The deployment engine's answers from the provisioner (machines up or gone)
// and its clock (timeouts, lost agents, provisioning that never called back).
#include <cstdio>

#include "common/log.h"
#include "controller/deployments/deployment_engine.h"

namespace slipway::controller {

namespace {

// A machine whose removal failed is tried this many more times.
constexpr int kTerminateRetries = 2;

std::string seconds(int64_t ms) {
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000);
  return buf;
}

}  // namespace

// ------------------------------------------------------------------ machines

void DeploymentEngine::on_launched(const std::string& id, const std::string& name,
                                   const Result<connectors::Machine>& machine) {
  launching_[id].erase(name);
  Deployment* d = find_active(id);
  if (d == nullptr) {
    auto abandoned = abandoned_.find({id, name});
    if (abandoned == abandoned_.end()) return;
    std::string cloud = abandoned->second;
    abandoned_.erase(abandoned);
    if (machine.ok()) {
      // The run ended while this machine was launching: remove it now.
      events_.record(id, "instance.late",
                     name + " came up on " + cloud + " after its deployment ended; removing it");
      provisioner_.terminate(id, {TerminateOrder{name, cloud, machine->machine_id}});
    }
    return;
  }
  Instance* instance = instance_of(*d, name);
  if (instance == nullptr) return;
  if (d->state == DeploymentState::kFinalizing || !is_live(instance->status)) {
    // Too late: the run is ending or the instance was dropped meanwhile.
    if (machine.ok()) {
      terminating_[id].insert(name);
      provisioner_.terminate(id, {TerminateOrder{name, instance->cloud, instance->machine_id}});
    } else if (d->state == DeploymentState::kFinalizing) {
      instance->status = InstanceStatus::kTerminated;
      save(*d, *instance);
    }
    advance(*d);
    return;
  }
  if (!machine.ok()) {
    fail_instance(*d, *instance, machine.error().message());
    return;
  }
  // An agent on the controller's own kernel may call before its launcher
  // has answered: the event says so rather than seem out of order.
  bool called_first = instance->status == InstanceStatus::kRunning;
  if (instance->status == InstanceStatus::kLaunching) instance->status = InstanceStatus::kBooting;
  if (instance->phase == InstancePhase::kLaunching) instance->phase = InstancePhase::kBooting;
  instance->address = machine->address;
  save(*d, *instance);
  events_.record(id, "instance.launched",
                 name + " launched on " + instance->cloud + " at " + machine->address +
                     (called_first ? " (its agent had already called)" : ""));
  set_builtin(id, name + ":hostname", machine->address);
  set_builtin(id, name + ":vmstate", "running");
  notify(EngineNotice::Kind::kInstance, id, name);
}

void DeploymentEngine::on_terminated(const std::string& id, const std::string& name,
                                     const Status& status) {
  terminating_[id].erase(name);
  Deployment* d = find_active(id);
  if (d == nullptr) {
    if (!status.ok()) {
      LOG_WARN("deployment %s: could not remove the machine of %s: %s", id.c_str(), name.c_str(),
               status.error().message().c_str());
    }
    return;
  }
  Instance* instance = instance_of(*d, name);
  if (instance == nullptr) return;
  if (!status.ok()) {
    int& retries = terminate_retries_[{id, name}];
    if (retries < kTerminateRetries) {
      ++retries;
      events_.record(id, "instance.terminate-retry",
                     "could not remove the machine of " + name + " (" + status.error().message() +
                         "); trying again");
      terminating_[id].insert(name);
      provisioner_.terminate(id, {TerminateOrder{name, instance->cloud, instance->machine_id}});
      return;
    }
    events_.record(id, "instance.terminate-failed",
                   "could not remove the machine of " + name + ": " + status.error().message());
  }
  terminate_retries_.erase({id, name});
  // A dropped instance stays "failed" so `slipway show` says why.
  if (instance->status != InstanceStatus::kFailed) {
    instance->status = InstanceStatus::kTerminated;
    instance->phase = InstancePhase::kNone;
  }
  save(*d, *instance);
  notify(EngineNotice::Kind::kInstance, id, name);
  advance(*d);
}

// ------------------------------------------------------------------ time

void DeploymentEngine::tick() {
  write_pending();
  int64_t now = clock_.steady_ms();
  parameters_.expire(now);
  barriers_.expire(now);
  std::vector<std::string> ids;
  for (const auto& [id, d] : active_) ids.push_back(id);
  for (const auto& id : ids) {
    Deployment* d = find_active(id);
    if (d == nullptr) continue;
    // A machine must call back in time in whatever state its deployment is
    // (an aborted run still waits for its machines' reports).
    if (d->state != DeploymentState::kFinalizing && is_transient(d->state)) {
      std::vector<std::string> late;
      for (const auto& [name, instance] : d->instances) {
        bool waiting = instance.status == InstanceStatus::kLaunching ||
                       instance.status == InstanceStatus::kBooting;
        if (waiting && now - instance.launched_steady > settings_.provisioning_timeout_ms)
          late.push_back(name);
      }
      for (const auto& name : late) {
        d = find_active(id);
        if (d == nullptr) break;
        Instance* instance = instance_of(*d, name);
        if (instance == nullptr || !is_live(instance->status)) continue;
        // A launch still in flight stays in launching_: when it answers,
        // on_launched() removes the machine it made.
        fail_instance(
            *d, *instance,
            "its agent did not call back within " + seconds(settings_.provisioning_timeout_ms));
      }
      d = find_active(id);
      if (d == nullptr) continue;
    }
    if (!is_transient(d->state) || now - d->state_since_steady <= d->timeout_ms) continue;
    if (d->state == DeploymentState::kFinalizing) {
      events_.record(id, "deployment.timeout", "gave up waiting for its machines to be removed");
      terminating_[id].clear();
      finish(*d);
    } else if (!d->aborted) {
      raise_abort(
          *d, "timed out after " + seconds(d->timeout_ms) + " in state " + state_name(d->state));
    } else {
      events_.record(id, "deployment.timeout",
                     std::string("gave up waiting in state ") + state_name(d->state));
      enter_state(*d, DeploymentState::kFinalizing);
      advance(*d);
    }
  }
}

void DeploymentEngine::fail_instance(Deployment& d, Instance& instance, const std::string& reason) {
  if (!is_live(instance.status)) return;
  bool provisioning =
      d.state == DeploymentState::kProvisioning || d.state == DeploymentState::kInitializing;
  const NodePlan& node = *d.node(instance.node);
  int64_t failed = 0;
  for (const auto& [name, other] : d.instances) {
    if (other.node == instance.node && other.status == InstanceStatus::kFailed) ++failed;
  }
  bool had_machine =
      instance.status == InstanceStatus::kBooting || instance.status == InstanceStatus::kRunning;
  instance.error = reason;
  if (provisioning && failed < node.max_provisioning_failures) {
    instance.status = InstanceStatus::kFailed;
    instance.phase = InstancePhase::kDropped;
    save(d, instance);
    events_.record(d.id, "instance.dropped",
                   instance.name + " dropped: " + reason + " (" + std::to_string(failed + 1) +
                       " of " + std::to_string(node.max_provisioning_failures) +
                       " allowed failures of " + node.name + ")");
    if (!instance.public_key.empty()) keys_.revoke(instance.public_key, "instance dropped");
    set_builtin(d.id, instance.name + ":vmstate", "failed");
    if (had_machine) {
      terminating_[d.id].insert(instance.name);
      provisioner_.terminate(d.id,
                             {TerminateOrder{instance.name, instance.cloud, instance.machine_id}});
    }
    refresh_node_parameters(d, node.name);
    barriers_.check(d);
    notify(EngineNotice::Kind::kInstance, d.id, instance.name);
    advance(d);
    return;
  }
  instance.status = provisioning ? InstanceStatus::kFailed : InstanceStatus::kLost;
  save(d, instance);
  set_builtin(d.id, instance.name + ":vmstate", provisioning ? "failed" : "lost");
  notify(EngineNotice::Kind::kInstance, d.id, instance.name);
  raise_abort(d, instance.name + (provisioning ? " failed to provision: " : ": ") + reason);
}

}  // namespace slipway::controller
