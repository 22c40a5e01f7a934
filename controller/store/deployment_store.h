// The deployments and instances tables, as plain rows: states, policies and
// statuses are the text stored, the node plans the msgpack stored. The
// deployments room turns them into its types (deployments/deployment.h) and
// says what a row it cannot read means.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::controller {

class Store;

struct DeploymentRow {
  std::string id;
  std::string module;  // NAME@VERSION
  int64_t owner_uid = 0;
  std::string owner_name;
  std::string state;  // "Executing"
  bool aborted = false;
  std::string abort_reason;
  std::string keep_running;  // "on-success"
  int64_t timeout_ms = 0;
  int64_t created_at = 0;   // wall ms
  int64_t state_since = 0;  // wall ms
  bool reached_ready = false;
  bool terminate_requested = false;
  int64_t ended_at = 0;
  std::string spec;  // msgpack: an array, one node plan each
};

struct InstanceRow {
  std::string name;  // "web.2"
  std::string node;
  int64_t index = 0;
  std::string cloud;
  std::string machine_id;
  std::string public_key;
  std::string status;  // "running"
  std::string address;
  std::string phase;
  std::string state_done;
  std::string error;
  std::string completed;  // step ids, one per line
};

class DeploymentRows {
 public:
  explicit DeploymentRows(Store& store) : store_(store) {}

  // Inserts a deployment's row (not its instances). kAlreadyExists when the
  // id is taken; kIo for another failure.
  Status insert(const DeploymentRow& row);
  // Writes the state, flags and timestamps of row.id. Succeeds and changes
  // nothing when no row has that id; kIo when it cannot be written.
  Status save_state(const DeploymentRow& row);
  // Inserts an instance of `deployment`. kAlreadyExists when it has one of
  // that name or the deployment is not stored (its foreign key); kIo for
  // another failure.
  Status insert_instance(const std::string& deployment, const InstanceRow& row);
  // Writes what changes of an instance: status, address, phase, progress,
  // error, public key. Succeeds and changes nothing when no such instance
  // is stored; a store failure is kIo.
  Status save_instance(const std::string& deployment, const InstanceRow& row);

  // Every deployment whose state is not final, oldest first; empty when
  // there is none. A store failure is kIo.
  Result<std::vector<DeploymentRow>> active();
  // One deployment; nullopt when no row has that id. A store failure is kIo.
  Result<std::optional<DeploymentRow>> find(const std::string& id);
  // The deployments of one owner (every owner's when owner_uid is -1),
  // oldest first; empty when there is none. A store failure is kIo.
  Result<std::vector<DeploymentRow>> of_owner(int64_t owner_uid);
  // The instances of a deployment, in no particular order; empty when it has
  // none. A store failure is kIo.
  Result<std::vector<InstanceRow>> instances(const std::string& deployment);
  // How many deployments are in each state, by the state's stored text;
  // empty when there are none. A store failure is kIo.
  Result<std::map<std::string, int64_t>> count_by_state();

 private:
  Store& store_;
};

}  // namespace slipway::controller
