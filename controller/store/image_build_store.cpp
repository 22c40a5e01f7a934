#include "controller/store/image_build_store.h"

#include "controller/store/store.h"

namespace slipway::controller {
namespace {

constexpr const char* kColumns =
    "id, name, version, cloud, state, hash, base, depth, deployment, reference, dir, size_bytes, "
    "created_at, finished_at, error";

ImageBuildRow read_row(const sql::Statement& stmt) {
  ImageBuildRow row;
  row.id = stmt.column_text(0);
  row.name = stmt.column_text(1);
  row.version = stmt.column_int(2);
  row.cloud = stmt.column_text(3);
  row.state = stmt.column_text(4);
  row.hash = stmt.column_text(5);
  row.base = stmt.column_text(6);
  row.depth = stmt.column_int(7);
  row.deployment = stmt.column_text(8);
  row.reference = stmt.column_text(9);
  row.dir = stmt.column_text(10);
  row.size_bytes = stmt.column_int(11);
  row.created_at = stmt.column_int(12);
  row.finished_at = stmt.column_int(13);
  row.error = stmt.column_text(14);
  return row;
}

// Binds every column but the id, from 2 on, in kColumns' order.
void bind_fields(sql::Statement& stmt, const ImageBuildRow& row) {
  stmt.bind(2, row.name)
      .bind(3, row.version)
      .bind(4, row.cloud)
      .bind(5, row.state)
      .bind(6, row.hash)
      .bind(7, row.base)
      .bind(8, row.depth)
      .bind(9, row.deployment)
      .bind_blob(10, row.reference)
      .bind(11, row.dir)
      .bind(12, row.size_bytes)
      .bind(13, row.created_at)
      .bind(14, row.finished_at)
      .bind(15, row.error);
}

Result<std::vector<ImageBuildRow>> read_all(sql::Statement& stmt) {
  std::vector<ImageBuildRow> rows;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool more, stmt.step());
    if (!more) return rows;
    rows.push_back(read_row(stmt));
  }
}

}  // namespace

Status ImageBuildRows::insert(const ImageBuildRow& row) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare(std::string("INSERT INTO image_builds(") + kColumns +
                                               ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,"
                                               "?13,?14,?15)"));
  stmt.bind(1, row.id);
  bind_fields(stmt, row);
  return stmt.run();
}

Status ImageBuildRows::update(const ImageBuildRow& row) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare("UPDATE image_builds SET name=?2, version=?3, cloud=?4, state=?5, "
                          "hash=?6, base=?7, depth=?8, deployment=?9, reference=?10, dir=?11, "
                          "size_bytes=?12, created_at=?13, finished_at=?14, error=?15 "
                          "WHERE id=?1"));
  stmt.bind(1, row.id);
  bind_fields(stmt, row);
  return stmt.run();
}

Result<std::optional<ImageBuildRow>> ImageBuildRows::find(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare(std::string("SELECT ") + kColumns +
                                               " FROM image_builds WHERE id=?1"));
  stmt.bind(1, id);
  SLIPWAY_ASSIGN_OR_RETURN(bool found, stmt.step());
  if (!found) return std::optional<ImageBuildRow>();
  return std::optional<ImageBuildRow>(read_row(stmt));
}

Result<std::vector<ImageBuildRow>> ImageBuildRows::list(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare(std::string("SELECT ") + kColumns +
                                     " FROM image_builds WHERE (?1 = '' OR name = ?1) "
                                     "ORDER BY name, cloud, created_at DESC, id"));
  stmt.bind(1, name);
  return read_all(stmt);
}

Status ImageBuildRows::remove(const std::string& id) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt, store_.db().prepare("DELETE FROM image_builds WHERE id=?1"));
  stmt.bind(1, id);
  return stmt.run();
}

}  // namespace slipway::controller
