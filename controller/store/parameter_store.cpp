#include "controller/store/parameter_store.h"

#include "controller/store/store.h"

namespace slipway::controller {

Status ParameterRows::put(const std::string& deployment, const std::string& key,
                          const std::optional<std::string>& value, int64_t now_ms) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(
                     "INSERT INTO parameters(deployment, key, value, updated_at) VALUES(?,?,?,?) "
                     "ON CONFLICT(deployment, key) DO UPDATE SET value=excluded.value, "
                     "updated_at=excluded.updated_at"));
  stmt.bind(1, deployment).bind(2, key).bind(4, now_ms);
  if (value)
    stmt.bind(3, *value);
  else
    stmt.bind_null(3);
  return stmt.run();
}

Status ParameterRows::put_all(const std::string& deployment, const std::vector<std::string>& keys,
                              const std::string& value, int64_t now_ms) {
  sql::Transaction tx(store_.db());
  SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
  for (const auto& key : keys) SLIPWAY_RETURN_IF_ERROR(put(deployment, key, value, now_ms));
  return tx.commit();
}

Result<std::vector<ParameterRow>> ParameterRows::all(const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare("SELECT key, value FROM parameters WHERE deployment=? ORDER BY key"));
  stmt.bind(1, deployment);
  std::vector<ParameterRow> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(ParameterRow{
        stmt.column_text(0),
        stmt.column_is_null(1) ? std::nullopt : std::optional<std::string>(stmt.column_text(1))});
  }
  return out;
}

}  // namespace slipway::controller
