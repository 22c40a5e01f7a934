#include "controller/store/agent_keys.h"

#include "controller/store/store.h"

namespace slipway::controller {

Status AgentKeyStore::add(const std::string& public_key, const AgentIdentity& identity,
                          int64_t now_ms) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "INSERT INTO agent_keys(public_key, deployment, instance, created_at) VALUES(?,?,?,?)"));
  auto status = stmt.bind(1, public_key)
                    .bind(2, identity.deployment)
                    .bind(3, identity.instance)
                    .bind(4, now_ms)
                    .run();
  if (!status.ok() && status.error().code() == Code::kAlreadyExists) {
    return Error(Code::kAlreadyExists, "agent " + identity.display() + " already has a key");
  }
  return status;
}

Result<std::string> AgentKeyStore::revoke(const AgentIdentity& identity) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto find,
      store_.db().prepare(
          "SELECT public_key FROM agent_keys WHERE deployment=? AND instance=? AND revoked=0"));
  find.bind(1, identity.deployment).bind(2, identity.instance);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, find.step());
  if (!row) return Error(Code::kNotFound, "no live key for agent " + identity.display());
  std::string key = find.column_text(0);
  SLIPWAY_ASSIGN_OR_RETURN(
      auto update, store_.db().prepare("UPDATE agent_keys SET revoked=1 WHERE public_key=?"));
  SLIPWAY_RETURN_IF_ERROR(update.bind(1, key).run());
  return key;
}

Status AgentKeyStore::revoke_key(const std::string& public_key) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto update, store_.db().prepare("UPDATE agent_keys SET revoked=1 WHERE public_key=?"));
  return update.bind(1, public_key).run();
}

Result<std::vector<std::string>> AgentKeyStore::revoke_deployment(const std::string& deployment) {
  std::vector<std::string> keys;
  SLIPWAY_ASSIGN_OR_RETURN(
      auto find,
      store_.db().prepare("SELECT public_key FROM agent_keys WHERE deployment=? AND revoked=0"));
  find.bind(1, deployment);
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, find.step());
    if (!row) break;
    keys.push_back(find.column_text(0));
  }
  SLIPWAY_ASSIGN_OR_RETURN(
      auto update,
      store_.db().prepare("UPDATE agent_keys SET revoked=1 WHERE deployment=? AND revoked=0"));
  SLIPWAY_RETURN_IF_ERROR(update.bind(1, deployment).run());
  return keys;
}

namespace {
Result<std::vector<StoredKey>> select_keys(Store& store, const char* sql) {
  std::vector<StoredKey> keys;
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt, store.db().prepare(sql));
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    keys.push_back(StoredKey{stmt.column_text(0),
                             {stmt.column_text(1), stmt.column_text(2)},
                             stmt.column_int(3) != 0,
                             stmt.column_int(4)});
  }
  return keys;
}
}  // namespace

Result<std::vector<StoredKey>> AgentKeyStore::live_keys() {
  return select_keys(store_,
                     "SELECT public_key, deployment, instance, revoked, created_at "
                     "FROM agent_keys WHERE revoked=0");
}

Result<std::vector<StoredKey>> AgentKeyStore::registered_agents() {
  return select_keys(store_,
                     "SELECT public_key, deployment, instance, revoked, created_at "
                     "FROM agent_keys WHERE deployment='' ORDER BY instance, created_at");
}

}  // namespace slipway::controller
