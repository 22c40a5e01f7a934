#include "controller/store/barrier_store.h"

#include "controller/store/store.h"

namespace slipway::controller {

std::map<size_t, Error> BarrierRows::put_all(const std::vector<BarrierRow>& rows) {
  std::map<size_t, Error> failed;
  auto fail_every = [&](const Error& error) {
    for (size_t i = 0; i < rows.size(); ++i) failed.emplace(i, error);
    return failed;
  };
  sql::Transaction tx(store_.db());
  if (!tx.begin_status().ok()) return fail_every(tx.begin_status().error());
  auto stmt = store_.db().prepare(
      "INSERT OR IGNORE INTO barriers(deployment, name, instance) VALUES(?,?,?)");
  if (!stmt.ok()) return fail_every(stmt.error());
  for (size_t i = 0; i < rows.size(); ++i) {
    Status done =
        stmt->bind(1, rows[i].deployment).bind(2, rows[i].name).bind(3, rows[i].instance).run();
    if (!done.ok()) failed.emplace(i, done.error());
  }
  Status committed = tx.commit();
  if (!committed.ok()) return fail_every(committed.error());
  return failed;
}

Result<std::vector<BarrierRow>> BarrierRows::all(const std::string& deployment) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT name, instance FROM barriers WHERE deployment=?"));
  stmt.bind(1, deployment);
  std::vector<BarrierRow> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(BarrierRow{deployment, stmt.column_text(0), stmt.column_text(1)});
  }
  return out;
}

}  // namespace slipway::controller
