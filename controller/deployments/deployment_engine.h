// The deployment state machine (SPEC section 3) with its runtime parameters
// and barriers (section 4).
//
// A deployment leaves a state only when every live instance has reported
// that it completed it: Initializing -> Provisioning -> Executing ->
// SendingReports -> Ready -> Finalizing -> Done | Aborted | Cancelled. The
// abort flag sends a run on to SendingReports at once, so reports still
// arrive; the keep-running policy decides what happens in Ready.
//
// The engine touches the outside world only through the interfaces below
// of engine_ports.h (agent link, provisioner, key keeper), a clock and the store, so its tests
// drive it without sockets, machines or sleeps.
//
// Not thread-safe: the controller's event loop calls every method.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol.h"
#include "common/status.h"
#include "connectors/connector.h"
#include "controller/catalog/caller.h"
#include "controller/catalog/image_builds.h"
#include "controller/deployments/barriers.h"
#include "controller/deployments/deployment.h"
#include "controller/deployments/engine_ports.h"
#include "controller/deployments/event_log.h"
#include "controller/deployments/parameters.h"
#include "controller/deployments/planner.h"
#include "controller/store/log_store.h"

namespace slipway::controller {

struct EngineSettings {
  int64_t heartbeat_ms = 5000;
  int64_t heartbeat_timeout_ms = 30000;
  int64_t provisioning_timeout_ms = 600000;
};

// Something a watcher (deploy --wait, logs -f) may want to show.
struct EngineNotice {
  enum class Kind { kState, kInstance, kLog };
  Kind kind;
  std::string deployment;
  std::string instance;
};

class DeploymentEngine {
 public:
  DeploymentEngine(Store& store, const Clock& clock, EventLog& events, AgentLink& agents,
                   Provisioner& provisioner, KeyKeeper& keys, ImageBuilds& builds,
                   EngineSettings settings);
  ~DeploymentEngine();

  // Loads the deployments that were running, so they carry on when their
  // agents reconnect. Orders nothing yet: see resume().
  Status start();
  // Re-issues what was in flight when the controller stopped (launches of
  // instances never launched, the removal of machines of runs finalizing)
  // and moves each deployment on as far as it can go.
  void resume();

  // ------------------------------------------------------------ users
  // Creates a deployment of `plan` and starts provisioning it; returns its id.
  Result<std::string> create(const Caller& caller, const DeploymentPlan& plan);
  Status abort(const Caller& caller, const std::string& id, const std::string& reason);
  Status terminate(const Caller& caller, const std::string& id);
  // A copy of a deployment the caller may see (kNotFound otherwise).
  Result<Deployment> find(const Caller& caller, const std::string& id);
  // The live copy of an active deployment, or nullptr.
  const Deployment* active(const std::string& id) const;
  Result<std::vector<Deployment>> list(const Caller& caller);
  // Number of deployments in each state, for `slipway status`.
  Result<std::map<std::string, int64_t>> counts();
  // Sets a parameter from outside (`slipway set`).
  Status set_parameter(const Caller& caller, const std::string& id, const std::string& key,
                       const std::string& value);
  // The machine ids of every instance of an active deployment, by cloud:
  // what must survive a reap after a restart.
  std::map<std::string, std::set<std::string>> machines_in_use() const;
  // The ids of the active deployments.
  std::set<std::string> active_ids() const;

  ParameterStore& parameters() { return parameters_; }
  LogStore& logs() { return logs_; }
  // How many of the engine's own writes the store refused (store_own()).
  int64_t store_failures() const { return store_failures_; }

  // ------------------------------------------------------------ agents
  // Who the agent is and what it is to do; nullopt when its deployment is
  // over (it gets a goodbye).
  std::optional<proto::Welcome> on_hello(const AgentIdentity& who, const proto::Hello& hello,
                                         const std::string& peer_address);
  void on_message(const AgentIdentity& who, const proto::AgentMessage& message);
  // Its agent was silent for longer than the heartbeat timeout.
  void on_agent_lost(const AgentIdentity& who);

  // ------------------------------------------------------------ machines
  void on_launched(const std::string& deployment, const std::string& instance,
                   const Result<connectors::Machine>& machine);
  void on_terminated(const std::string& deployment, const std::string& instance,
                     const Status& status);
  // A build's machine was made an image, or could not be (engine_builds.cpp).
  void on_snapshotted(const std::string& deployment, const std::string& instance,
                      const Result<Snapshot>& snapshot);

  // Deadlines: deployment and provisioning timeouts, waits.
  void tick();

  // Writes held back for a group commit (barrier arrivals, barriers.h).
  // The controller runs write_pending() once its event loop has handled
  // what was ready, whenever pending_writes() says there is something.
  bool pending_writes() const { return barriers_.unsaved(); }
  void write_pending() { barriers_.save(); }

  int subscribe(std::function<void(const EngineNotice&)> watcher);
  void unsubscribe(int id);

 private:
  Deployment* find_active(const std::string& id);
  Instance* instance_of(Deployment& d, const std::string& name);
  bool may_act(const Caller& caller, const Deployment& d) const;
  // The caller's active deployment `id`: kNotFound when the caller may not
  // see it, kFailedPrecondition (naming its state) when it is over.
  Result<Deployment*> acted_on(const Caller& caller, const std::string& id);

  void enter_state(Deployment& d, DeploymentState state);
  void advance(Deployment& d);
  void raise_abort(Deployment& d, const std::string& reason);
  void launch(Deployment& d, const std::vector<std::string>& instances);
  void start_finalizing(Deployment& d);
  void finish(Deployment& d);
  void fail_instance(Deployment& d, Instance& instance, const std::string& reason);
  void refresh_node_parameters(Deployment& d, const std::string& node);
  void broadcast_state(const Deployment& d);
  // The engine's own writes: see store_own().
  void save(const Deployment& d);
  void save(const Deployment& d, const Instance& instance);
  void set_builtin(const std::string& deployment, const std::string& key, const std::string& value);
  // When a write fails. A write the engine makes on its own account (a
  // state save, a built-in parameter: ss:state, NODE:multiplicity,
  // INSTANCE:vmstate...) has nobody to answer, and stopping the deployment
  // for it would turn a full disk into lost machines: the in-memory state
  // goes on, and the failure is logged once, naming the deployment and
  // `what` was not stored, and counted (store_failures()). A write a
  // request caused (a user's set, an agent's ss-set, a barrier arrival)
  // does not come here: its requester gets the store's error.
  void store_own(const std::string& deployment, const Status& written, const std::string& what);
  void notify(EngineNotice::Kind kind, const std::string& deployment,
              const std::string& instance = "");
  void reply(const AgentIdentity& who, uint64_t id, const Result<std::string>& result,
             std::vector<std::string> values = {});
  int64_t deadline(int64_t timeout_ms) const;

  // Builds (engine_builds.cpp). A build's run snapshots its machine once it
  // is Ready, before it finalizes: true while that holds it in Ready.
  bool holds_for_snapshot(Deployment& d);
  // At the end of a build's run that made no image: the build failed.
  void end_build(const Deployment& d);

  // Agent requests (engine_agents.cpp).
  // Waits on `keys` for request `request` of `who`, replacing an earlier wait
  // of the same request (re-sent after a reconnect).
  void wait_for(const Deployment& d, const AgentIdentity& who, uint64_t request,
                std::vector<std::string> keys, int64_t deadline_steady,
                ParameterStore::WaitCallback callback);
  void on_get(Deployment& d, const AgentIdentity& who, const proto::Get& get);
  void on_get_all(Deployment& d, const AgentIdentity& who, const proto::GetAll& get);
  void on_set(Deployment& d, const AgentIdentity& who, const proto::Set& set);
  void on_barrier(Deployment& d, const AgentIdentity& who, const proto::Barrier& barrier);
  void on_abort(Deployment& d, const AgentIdentity& who, const proto::Abort& abort);
  void on_step_done(Deployment& d, Instance& instance, const proto::StepDone& done);
  void on_state_done(Deployment& d, Instance& instance, const proto::StateDone& done);
  void on_log(Deployment& d, Instance& instance, const proto::Log& log);
  void on_report(Deployment& d, const AgentIdentity& who, const proto::ReportChunk& chunk);
  // A key the agent may read: its deployment's, naming an existing node/instance.
  Result<std::string> readable_key(const Deployment& d, const std::string& key,
                                   const std::string& self);

  Store& store_;
  const Clock& clock_;
  EventLog& events_;
  AgentLink& agents_;
  Provisioner& provisioner_;
  KeyKeeper& keys_;
  ImageBuilds& builds_;
  EngineSettings settings_;
  DeploymentStore deployments_;
  ParameterStore parameters_;
  BarrierBook barriers_;
  LogStore logs_;
  std::map<std::string, Deployment> active_;
  std::map<int, std::function<void(const EngineNotice&)>> watchers_;
  int next_watcher_ = 1;
  // Per deployment, launches not answered yet: finalizing waits for them.
  std::map<std::string, std::set<std::string>> launching_;
  std::map<std::string, std::set<std::string>> terminating_;
  // Launches still in flight when their deployment ended (it gave up
  // waiting): (deployment, instance) -> cloud, so that a machine that still
  // comes up is removed, not leaked.
  std::map<std::pair<std::string, std::string>, std::string> abandoned_;
  // Waits of agents' requests, by (agent, request id) -> ParameterStore wait.
  using AgentWaitKey = std::pair<std::string, uint64_t>;
  std::map<AgentWaitKey, uint64_t> agent_waits_;
  // Failed terminations retried so far, per (deployment, instance).
  std::map<std::pair<std::string, std::string>, int> terminate_retries_;
  int64_t store_failures_ = 0;
  // Builds' runs whose machine is being made an image, and those whose
  // image is made (they may finalize).
  std::set<std::string> snapshotting_;
  std::set<std::string> snapshotted_;
};

}  // namespace slipway::controller
