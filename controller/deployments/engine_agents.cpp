// What agents ask of the deployment engine: hello, parameters, barriers,
// abort, progress, logs and reports. The identity comes from the agent's
// authenticated key, never from a message field.
#include <algorithm>
#include <variant>

#include "common/log.h"
#include "controller/deployments/deployment_engine.h"

namespace slipway::controller {

namespace {

bool valid_barrier_name(const std::string& name) {
  return !name.empty() && name.size() <= 128 && valid_parameter_name(name);
}

}  // namespace

void DeploymentEngine::reply(const AgentIdentity& who, uint64_t id,
                             const Result<std::string>& result, std::vector<std::string> values) {
  proto::Reply r;
  r.id = id;
  if (result.ok()) {
    r.value = *result;
    r.values = std::move(values);
  } else {
    r.code = code_name(result.error().code());
    r.message = result.error().message();
  }
  agents_.send(who, r);
}

std::optional<proto::Welcome> DeploymentEngine::on_hello(const AgentIdentity& who,
                                                         const proto::Hello& hello,
                                                         const std::string& peer_address) {
  Deployment* d = find_active(who.deployment);
  if (d == nullptr) return std::nullopt;
  Instance* instance = instance_of(*d, who.instance);
  if (instance == nullptr || instance->status == InstanceStatus::kFailed ||
      instance->status == InstanceStatus::kTerminated) {
    return std::nullopt;
  }
  bool was_lost = instance->status == InstanceStatus::kLost;
  instance->completed.insert(hello.completed.begin(), hello.completed.end());
  instance->status = InstanceStatus::kRunning;
  if (instance->phase == InstancePhase::kLaunching || instance->phase == InstancePhase::kBooting)
    instance->phase = InstancePhase::kConnected;
  if (instance->address.empty() && !peer_address.empty()) {
    instance->address = peer_address;
    set_builtin(d->id, who.instance + ":hostname", peer_address);
  }
  save(*d, *instance);
  if (was_lost) events_.record(d->id, "instance.reconnected", who.instance + " is back");
  notify(EngineNotice::Kind::kInstance, d->id, who.instance);

  const NodePlan& node = *d->node(instance->node);
  proto::Welcome w;
  w.instance = who.instance;
  w.deployment = d->id;
  w.heartbeat_ms = settings_.heartbeat_ms;
  w.state = state_name(d->state);
  w.aborted = d->aborted;
  w.abort_reason = d->abort_reason;
  w.plan = node.plan;
  w.plan.env["SLIPWAY_CLOUD"] = instance->cloud;
  w.completed.assign(instance->completed.begin(), instance->completed.end());
  return w;
}

void DeploymentEngine::on_agent_lost(const AgentIdentity& who) {
  Deployment* d = find_active(who.deployment);
  if (d == nullptr || d->state == DeploymentState::kFinalizing) return;
  Instance* instance = instance_of(*d, who.instance);
  if (instance == nullptr || instance->status != InstanceStatus::kRunning) return;
  // A build's machine is stopped to be made an image: its agent goes.
  if (instance->phase == InstancePhase::kSnapshotting ||
      instance->phase == InstancePhase::kTerminating)
    return;
  fail_instance(*d, *instance,
                "its agent was silent for more than " +
                    std::to_string(settings_.heartbeat_timeout_ms / 1000) + " s");
}

void DeploymentEngine::on_message(const AgentIdentity& who, const proto::AgentMessage& message) {
  Deployment* d = find_active(who.deployment);
  if (d == nullptr) return;
  Instance* instance = instance_of(*d, who.instance);
  if (instance == nullptr) return;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, proto::Get>) {
          on_get(*d, who, m);
        } else if constexpr (std::is_same_v<T, proto::GetAll>) {
          on_get_all(*d, who, m);
        } else if constexpr (std::is_same_v<T, proto::Set>) {
          on_set(*d, who, m);
        } else if constexpr (std::is_same_v<T, proto::Barrier>) {
          on_barrier(*d, who, m);
        } else if constexpr (std::is_same_v<T, proto::Abort>) {
          on_abort(*d, who, m);
        } else if constexpr (std::is_same_v<T, proto::StepStarted>) {
          // A step id begins with its kind ("post-install#2:web@3"); an
          // agent's word for one the plan has no kind of changes nothing.
          auto phase = parse_phase(m.step.substr(0, m.step.find_first_of(":#")));
          if (!phase.ok() || *phase < InstancePhase::kPreInstall ||
              *phase > InstancePhase::kOnScale) {
            LOG_DEBUG("%s started a step of no known kind, %.64s", who.display().c_str(),
                      m.step.c_str());
            return;
          }
          instance->phase = *phase;
          save(*d, *instance);
          notify(EngineNotice::Kind::kInstance, d->id, who.instance);
        } else if constexpr (std::is_same_v<T, proto::StepDone>) {
          on_step_done(*d, *instance, m);
        } else if constexpr (std::is_same_v<T, proto::StateDone>) {
          on_state_done(*d, *instance, m);
        } else if constexpr (std::is_same_v<T, proto::Log>) {
          on_log(*d, *instance, m);
        } else if constexpr (std::is_same_v<T, proto::ReportChunk>) {
          on_report(*d, who, m);
        } else {
          LOG_DEBUG("%s sent %s, which needs no answer here", who.display().c_str(),
                    std::string(T::kType).c_str());
        }
      },
      message);
}

Result<std::string> DeploymentEngine::readable_key(const Deployment& d, const std::string& key,
                                                   const std::string& self) {
  SLIPWAY_ASSIGN_OR_RETURN(ParameterName p, parse_parameter(key, self));
  if (p.node == "ss") return p.key();
  if (d.node(p.node) == nullptr) {
    return Error(Code::kInvalidArgument, "\"" + key + "\": this deployment has no node " + p.node);
  }
  if (p.index > 0 && !d.instances.count(p.instance())) {
    return Error(Code::kInvalidArgument,
                 "\"" + key + "\": this deployment has no instance " + p.instance());
  }
  return p.key();
}

void DeploymentEngine::on_get(Deployment& d, const AgentIdentity& who, const proto::Get& get) {
  auto key = readable_key(d, get.key, who.instance);
  if (!key.ok()) return reply(who, get.id, key.error());
  if (auto value = parameters_.get(d.id, *key)) return reply(who, get.id, *value);
  if (!get.wait) return reply(who, get.id, Error(Code::kNotSet, *key + " is not set"));
  if (d.aborted)
    return reply(who, get.id,
                 Error(Code::kAborted, "the deployment was aborted: " + d.abort_reason));
  uint64_t id = get.id;
  wait_for(d, who, id, {*key}, deadline(get.timeout_ms),
           [this, who, id](Result<ParameterStore::Values> values) {
             if (values.ok())
               reply(who, id, values->front());
             else
               reply(who, id, values.error());
           });
}

void DeploymentEngine::wait_for(const Deployment& d, const AgentIdentity& who, uint64_t request,
                                std::vector<std::string> keys, int64_t deadline_steady,
                                ParameterStore::WaitCallback callback) {
  // An agent that reconnects sends its pending requests again: the new wait
  // replaces the old one rather than answering twice.
  AgentWaitKey tag{who.display(), request};
  if (auto old = agent_waits_.find(tag); old != agent_waits_.end()) {
    uint64_t old_id = old->second;
    agent_waits_.erase(old);
    parameters_.cancel(old_id);
  }
  agent_waits_[tag] = 0;
  uint64_t wait_id = parameters_.wait(
      d.id, std::move(keys), deadline_steady,
      [this, tag, callback = std::move(callback)](Result<ParameterStore::Values> values) {
        agent_waits_.erase(tag);
        callback(std::move(values));
      });
  // Unless it was answered at once, remember it.
  if (auto it = agent_waits_.find(tag); it != agent_waits_.end()) it->second = wait_id;
}

void DeploymentEngine::on_get_all(Deployment& d, const AgentIdentity& who,
                                  const proto::GetAll& get) {
  if (d.node(get.node) == nullptr) {
    return reply(who, get.id,
                 Error(Code::kInvalidArgument, "this deployment has no node " + get.node));
  }
  if (!valid_parameter_name(get.key)) {
    return reply(who, get.id,
                 Error(Code::kInvalidArgument, "\"" + get.key + "\" is not a parameter name"));
  }
  auto live = d.live(get.node);
  std::sort(live.begin(), live.end(),
            [](const Instance* a, const Instance* b) { return a->index < b->index; });
  std::vector<std::string> keys;
  std::vector<std::string> names;
  for (const Instance* i : live) {
    keys.push_back(i->name + ":" + get.key);
    names.push_back(i->name);
  }
  if (d.aborted) {
    bool all_set = std::all_of(keys.begin(), keys.end(),
                               [&](const auto& k) { return parameters_.get(d.id, k).has_value(); });
    if (!all_set)
      return reply(who, get.id,
                   Error(Code::kAborted, "the deployment was aborted: " + d.abort_reason));
  }
  uint64_t id = get.id;
  wait_for(d, who, id, keys, deadline(get.timeout_ms),
           [this, who, id, names](Result<ParameterStore::Values> values) {
             if (!values.ok()) return reply(who, id, values.error());
             std::vector<std::string> lines;
             for (size_t i = 0; i < names.size(); ++i)
               lines.push_back(names[i] + " " + (*values)[i]);
             reply(who, id, std::string(), std::move(lines));
           });
}

void DeploymentEngine::on_set(Deployment& d, const AgentIdentity& who, const proto::Set& set) {
  auto p = parse_parameter(set.key, who.instance);
  if (!p.ok()) return reply(who, set.id, p.error());
  if (p->instance() != who.instance) {
    return reply(who, set.id,
                 Error(Code::kPermissionDenied,
                       who.instance + " may set only its own parameters, not " + p->key()));
  }
  if (is_controller_owned(p->name)) {
    return reply(who, set.id,
                 Error(Code::kPermissionDenied, p->name + " is kept by the controller"));
  }
  Status status = parameters_.set(d.id, p->key(), set.value);
  if (!status.ok()) return reply(who, set.id, status.error());
  if (p->name == "statecustom") notify(EngineNotice::Kind::kInstance, d.id, who.instance);
  reply(who, set.id, std::string());
}

void DeploymentEngine::on_barrier(Deployment& d, const AgentIdentity& who,
                                  const proto::Barrier& b) {
  if (!valid_barrier_name(b.name)) {
    return reply(who, b.id,
                 Error(Code::kInvalidArgument, "\"" + b.name + "\" is not a barrier name"));
  }
  if (b.count < 0)
    return reply(who, b.id, Error(Code::kInvalidArgument, "a barrier count must be positive"));
  for (const auto& node : b.nodes) {
    if (d.node(node) == nullptr) {
      return reply(who, b.id, Error(Code::kInvalidArgument, "this deployment has no node " + node));
    }
  }
  if (d.aborted)
    return reply(who, b.id, Error(Code::kAborted, "the deployment was aborted: " + d.abort_reason));
  uint64_t id = b.id;
  barriers_.arrive(d, b.name, who.instance, BarrierScope{b.count, b.nodes}, deadline(b.timeout_ms),
                   [this, who, id](Status s) {
                     if (s.ok())
                       reply(who, id, std::string());
                     else
                       reply(who, id, s.error());
                   });
}

void DeploymentEngine::on_abort(Deployment& d, const AgentIdentity& who, const proto::Abort& a) {
  if (a.cancel) {
    if (d.aborted && d.state != DeploymentState::kFinalizing) {
      d.aborted = false;
      d.abort_reason.clear();
      save(d);
      set_builtin(d.id, "ss:abort", "");
      events_.record(d.id, "deployment.abort-cancelled", "abort cancelled by " + who.instance);
      broadcast_state(d);
      notify(EngineNotice::Kind::kState, d.id);
    }
    reply(who, a.id, std::string());
    return;
  }
  uint64_t id = a.id;
  std::string reason = who.instance + ": " + (a.reason.empty() ? "ss-abort" : a.reason);
  // Answer first: raising the abort may end the deployment.
  reply(who, id, std::string());
  raise_abort(d, reason);
}

void DeploymentEngine::on_step_done(Deployment& d, Instance& instance,
                                    const proto::StepDone& done) {
  if (done.exit_code == 0) {
    instance.completed.insert(done.step);
    save(d, instance);
    return;
  }
  const NodePlan& node = *d.node(instance.node);
  std::string what = done.step;
  for (const auto& step : node.plan.steps) {
    if (step.id != done.step) continue;
    what =
        step.kind == "packages" ? "installing packages" : step.name + " script of " + step.module;
  }
  std::string reason =
      instance.name + ": " + what + " exited with status " + std::to_string(done.exit_code);
  if (!done.error_line.empty()) reason += ": " + done.error_line.substr(0, 500);
  instance.error = reason;
  save(d, instance);
  notify(EngineNotice::Kind::kInstance, d.id, instance.name);
  raise_abort(d, reason);
}

void DeploymentEngine::on_state_done(Deployment& d, Instance& instance,
                                     const proto::StateDone& done) {
  if (done.state != state_name(d.state) || instance.state_done == done.state) return;
  instance.state_done = done.state;
  if (d.state == DeploymentState::kSendingReports) {
    instance.phase = InstancePhase::kReady;
    set_builtin(d.id, instance.name + ":complete", "true");
  }
  save(d, instance);
  notify(EngineNotice::Kind::kInstance, d.id, instance.name);
  advance(d);
}

void DeploymentEngine::on_log(Deployment& d, Instance& instance, const proto::Log& log) {
  auto id = logs_.append(d.id, instance.name, log.step, log.stream, log.seq, log.data);
  if (!id.ok()) {
    LOG_ERROR("cannot store output of %s: %s", instance.name.c_str(), id.error().message().c_str());
    return;
  }
  if (*id > 0) notify(EngineNotice::Kind::kLog, d.id, instance.name);
}

void DeploymentEngine::on_report(Deployment& d, const AgentIdentity& who,
                                 const proto::ReportChunk& chunk) {
  Status stored =
      logs_.report_chunk(d.id, who.instance, chunk.name, chunk.offset, chunk.data, chunk.last);
  if (!stored.ok()) return reply(who, chunk.id, stored.error());
  reply(who, chunk.id, std::string());
}

}  // namespace slipway::controller
