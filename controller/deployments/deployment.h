// A deployment (a run) and its node instances: the data the state machine
// works on, and how it is kept in the store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "common/status.h"
#include "common/value.h"
#include "controller/catalog/image_chain.h"
#include "controller/catalog/module.h"
#include "controller/store/deployment_store.h"

namespace slipway::controller {

class Store;

// SPEC section 3, in order; the last three are final.
enum class DeploymentState {
  kInitializing,
  kProvisioning,
  kExecuting,
  kSendingReports,
  kReady,
  kFinalizing,
  kDone,
  kAborted,
  kCancelled,
};

const char* state_name(DeploymentState state);
// The state named `name` (as state_name() writes it); kInvalidArgument for
// any other text.
Result<DeploymentState> parse_state(const std::string& name);
bool is_final(DeploymentState state);
// Transient: every state a deployment should leave on its own (not Ready, not final).
bool is_transient(DeploymentState state);

enum class KeepRunning { kAlways, kOnSuccess, kOnError, kNever };
const char* keep_running_name(KeepRunning policy);
// kInvalidArgument for a text keep_running_name() does not write.
Result<KeepRunning> parse_keep_running(const std::string& name);

// Where an instance is in its life.
enum class InstanceStatus {
  kPending,     // not launched yet
  kLaunching,   // the connector is starting its machine
  kBooting,     // the machine runs; its agent has not said hello yet
  kRunning,     // its agent is connected
  kLost,        // its agent went silent
  kFailed,      // it failed to provision and was dropped
  kTerminated,  // its machine is gone
};
const char* status_name(InstanceStatus status);
// kInvalidArgument for a text status_name() does not write.
Result<InstanceStatus> parse_status(const std::string& name);
// Live instances are the ones barriers wait for.
bool is_live(InstanceStatus status);

// What an instance is doing, as `slipway show` says: the controller's own
// steps around its machine, or the kind of script step its agent started.
enum class InstancePhase {
  kNone,        // nothing yet, or its machine is gone
  kLaunching,   // its machine is ordered
  kBooting,     // its machine is up; its agent has not called yet
  kConnected,   // its agent said hello
  kPreInstall,  // the agent's steps, by kind (step ids begin with these)
  kPackages,
  kPostInstall,
  kDeployment,
  kReport,
  kOnScale,
  kSnapshotting,  // its machine is being made an image (a build)
  kReady,        // its agent completed the deployment's work
  kTerminating,  // its machine is being removed
  kDropped,      // it failed to provision and was dropped
};
// "" for kNone, else "launching", "pre-install", ...: as stored and shown.
const char* phase_name(InstancePhase phase);
// kInvalidArgument for a text phase_name() does not write.
Result<InstancePhase> parse_phase(std::string_view name);

// A node of a deployment, resolved to exact module versions at deploy time.
struct NodePlan {
  std::string name;
  std::string image;               // NAME@VERSION
  std::vector<std::string> chain;  // reference image first
  std::string cloud;
  int64_t multiplicity = 1;
  int64_t max_provisioning_failures = 0;
  proto::Plan plan;
  std::vector<proto::Step> on_scale;  // ids without a round
  Value reference;
  ImageResources resources;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, InputBinding> bindings;  // input -> another node's parameter
  // The built image its machines boot (docs/images.md), "" for the
  // reference image: the build's id, and the NAME@VERSION it was built of.
  std::string boots_build;
  std::string boots_image;
  // The build this node makes, "" for none: its one machine is snapshotted
  // once its steps are done (a run of `slipway image build`).
  std::string builds;

  Value to_value() const;
  static Result<NodePlan> from_value(const Value& value);
};

struct Instance {
  std::string name;  // "web.2"
  std::string node;
  int64_t index = 1;
  std::string cloud;
  std::string machine_id;
  std::string public_key;
  InstanceStatus status = InstanceStatus::kPending;
  std::string address;
  InstancePhase phase = InstancePhase::kNone;
  std::string state_done;  // the last deployment state it completed
  std::string error;
  std::set<std::string> completed;  // step ids
  int64_t launched_steady = 0;      // when its machine came up (steady ms)
};

struct Deployment {
  std::string id;
  std::string module;  // NAME@VERSION
  uid_t owner_uid = 0;
  std::string owner_name;
  DeploymentState state = DeploymentState::kInitializing;
  bool aborted = false;
  std::string abort_reason;
  KeepRunning keep_running = KeepRunning::kOnSuccess;
  int64_t timeout_ms = 3600 * 1000;
  int64_t created_at = 0;   // wall ms
  int64_t state_since = 0;  // wall ms
  int64_t state_since_steady = 0;
  bool reached_ready = false;
  bool terminate_requested = false;
  int64_t ended_at = 0;
  std::vector<NodePlan> nodes;
  std::map<std::string, Instance> instances;  // by name

  const NodePlan* node(const std::string& name) const;
  // Instances of `node` (all nodes when empty) that barriers wait for.
  std::vector<const Instance*> live(const std::string& node = "") const;
  // "1,2,3": the indexes of the node's live instances.
  std::string ids(const std::string& node) const;
};

// Deployments and their instances as the store keeps them (DeploymentRows),
// turned into the types above. A row that cannot be read back (an unknown
// state, policy or status, a damaged spec) is kInternal, naming the
// deployment. Not thread-safe (event loop only).
class DeploymentStore {
 public:
  explicit DeploymentStore(Store& store) : rows_(store) {}

  // Each forwards the store's error (DeploymentRows says which).
  Status insert(const Deployment& d);
  Status save_state(const Deployment& d);  // state, flags, timestamps
  Status save_instance(const std::string& deployment, const Instance& instance);
  Status insert_instance(const std::string& deployment, const Instance& instance);
  // Every deployment that is not final, with its instances. A deployment
  // that cannot be read is logged and left out: one damaged row must not
  // hide the others, nor stop slipwayd at start.
  Result<std::vector<Deployment>> load_active();
  // nullopt when there is no such deployment; kInternal when its row is
  // damaged.
  Result<std::optional<Deployment>> load(const std::string& id);
  // Summary rows for `slipway list`; all owners when owner is -1. Damaged
  // rows are left out, as by load_active().
  Result<std::vector<Deployment>> list(int64_t owner_uid);
  // How many deployments are in each state, by state name.
  Result<std::map<std::string, int64_t>> counts() { return rows_.count_by_state(); }

 private:
  Result<Deployment> from_row(const DeploymentRow& row);
  // The rows that can be read, with their instances.
  Result<std::vector<Deployment>> read_all(const std::vector<DeploymentRow>& rows);
  // kInternal when an instance's row is damaged; the store's error when the
  // rows cannot be read.
  Status load_instances(Deployment* d);
  DeploymentRows rows_;
};

}  // namespace slipway::controller
