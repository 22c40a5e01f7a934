#include "controller/store/deployment_store.h"

#include "controller/store/store.h"

namespace slipway::controller {
namespace {
constexpr const char* kDeploymentColumns =
    "id, module, owner_uid, owner_name, state, aborted, abort_reason, keep_running, timeout_ms, "
    "created_at, state_since, reached_ready, terminate_requested, ended_at, spec";

DeploymentRow read_row(const sql::Statement& stmt) {
  DeploymentRow d;
  d.id = stmt.column_text(0);
  d.module = stmt.column_text(1);
  d.owner_uid = stmt.column_int(2);
  d.owner_name = stmt.column_text(3);
  d.state = stmt.column_text(4);
  d.aborted = stmt.column_int(5) != 0;
  d.abort_reason = stmt.column_text(6);
  d.keep_running = stmt.column_text(7);
  d.timeout_ms = stmt.column_int(8);
  d.created_at = stmt.column_int(9);
  d.state_since = stmt.column_int(10);
  d.reached_ready = stmt.column_int(11) != 0;
  d.terminate_requested = stmt.column_int(12) != 0;
  d.ended_at = stmt.column_int(13);
  d.spec = stmt.column_text(14);
  return d;
}
}  // namespace

Status DeploymentRows::insert(const DeploymentRow& d) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(std::string("INSERT INTO deployments(") + kDeploymentColumns +
                                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  return stmt.bind(1, d.id)
      .bind(2, d.module)
      .bind(3, d.owner_uid)
      .bind(4, d.owner_name)
      .bind(5, d.state)
      .bind(6, int64_t{d.aborted})
      .bind(7, d.abort_reason)
      .bind(8, d.keep_running)
      .bind(9, d.timeout_ms)
      .bind(10, d.created_at)
      .bind(11, d.state_since)
      .bind(12, int64_t{d.reached_ready})
      .bind(13, int64_t{d.terminate_requested})
      .bind(14, d.ended_at)
      .bind_blob(15, d.spec)
      .run();
}

Status DeploymentRows::save_state(const DeploymentRow& d) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("UPDATE deployments SET state=?, aborted=?, "
                                               "abort_reason=?, state_since=?, reached_ready=?, "
                                               "terminate_requested=?, ended_at=? WHERE id=?"));
  return stmt.bind(1, d.state)
      .bind(2, int64_t{d.aborted})
      .bind(3, d.abort_reason)
      .bind(4, d.state_since)
      .bind(5, int64_t{d.reached_ready})
      .bind(6, int64_t{d.terminate_requested})
      .bind(7, d.ended_at)
      .bind(8, d.id)
      .run();
}

Status DeploymentRows::insert_instance(const std::string& deployment, const InstanceRow& i) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "INSERT INTO instances(deployment, name, node, idx, cloud, machine_id, public_key, "
          "status, "
          "address, phase, state_done, error, completed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  return stmt.bind(1, deployment)
      .bind(2, i.name)
      .bind(3, i.node)
      .bind(4, i.index)
      .bind(5, i.cloud)
      .bind(6, i.machine_id)
      .bind(7, i.public_key)
      .bind(8, i.status)
      .bind(9, i.address)
      .bind(10, i.phase)
      .bind(11, i.state_done)
      .bind(12, i.error)
      .bind(13, i.completed)
      .run();
}

Status DeploymentRows::save_instance(const std::string& deployment, const InstanceRow& i) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "UPDATE instances SET status=?, address=?, phase=?, state_done=?, error=?, completed=?, "
          "public_key=? WHERE deployment=? AND name=?"));
  return stmt.bind(1, i.status)
      .bind(2, i.address)
      .bind(3, i.phase)
      .bind(4, i.state_done)
      .bind(5, i.error)
      .bind(6, i.completed)
      .bind(7, i.public_key)
      .bind(8, deployment)
      .bind(9, i.name)
      .run();
}

namespace {
Result<std::vector<DeploymentRow>> read_all(sql::Statement& stmt) {
  std::vector<DeploymentRow> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(read_row(stmt));
  }
  return out;
}
}  // namespace

Result<std::vector<DeploymentRow>> DeploymentRows::active() {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
                                     " FROM deployments WHERE state NOT IN "
                                     "('Done','Aborted','Cancelled') ORDER BY created_at"));
  return read_all(stmt);
}

Result<std::optional<DeploymentRow>> DeploymentRows::find(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare(std::string("SELECT ") + kDeploymentColumns +
                                               " FROM deployments WHERE id=?"));
  stmt.bind(1, id);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<DeploymentRow>();
  return std::optional<DeploymentRow>(read_row(stmt));
}

Result<std::vector<DeploymentRow>> DeploymentRows::of_owner(int64_t owner_uid) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(
                     std::string("SELECT ") + kDeploymentColumns +
                     " FROM deployments WHERE (?1 < 0 OR owner_uid = ?1) ORDER BY created_at"));
  stmt.bind(1, owner_uid);
  return read_all(stmt);
}

Result<std::vector<InstanceRow>> DeploymentRows::instances(const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT name, node, idx, cloud, machine_id, public_key, "
                                     "status, address, phase, state_done, "
                                     "error, completed FROM instances WHERE deployment=?"));
  stmt.bind(1, deployment);
  std::vector<InstanceRow> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(InstanceRow{stmt.column_text(0), stmt.column_text(1), stmt.column_int(2),
                              stmt.column_text(3), stmt.column_text(4), stmt.column_text(5),
                              stmt.column_text(6), stmt.column_text(7), stmt.column_text(8),
                              stmt.column_text(9), stmt.column_text(10), stmt.column_text(11)});
  }
  return out;
}

Result<std::map<std::string, int64_t>> DeploymentRows::count_by_state() {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT state, COUNT(*) FROM deployments GROUP BY state"));
  std::map<std::string, int64_t> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out[stmt.column_text(0)] = stmt.column_int(1);
  }
  return out;
}

}  // namespace slipway::controller
