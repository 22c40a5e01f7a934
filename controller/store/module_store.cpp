#include "controller/store/module_store.h"

#include "controller/store/store.h"

namespace slipway::controller {

Result<std::optional<ModuleAccessRow>> ModuleRows::access(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT owner_uid, owner_name, visibility, group_name, "
                                     "next_version FROM module_access WHERE name=?"));
  stmt.bind(1, name);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<ModuleAccessRow>();
  return std::optional<ModuleAccessRow>(ModuleAccessRow{name, stmt.column_int(0),
                                                        stmt.column_text(1), stmt.column_text(2),
                                                        stmt.column_text(3), stmt.column_int(4)});
}

Result<std::optional<ModuleRow>> ModuleRows::find(const std::string& name, int64_t version) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          version > 0 ? "SELECT version, content, digest, owner_uid, owner_name, created_at, kind "
                        "FROM modules WHERE name=?1 AND version=?2"
                      : "SELECT version, content, digest, owner_uid, owner_name, created_at, kind "
                        "FROM modules WHERE name=?1 ORDER BY version DESC LIMIT 1"));
  stmt.bind(1, name);
  if (version > 0) stmt.bind(2, version);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<ModuleRow>();
  ModuleRow m;
  m.name = name;
  m.version = stmt.column_int(0);
  m.content = stmt.column_text(1);
  m.digest = stmt.column_text(2);
  m.owner_uid = stmt.column_int(3);
  m.owner_name = stmt.column_text(4);
  m.created_at = stmt.column_int(5);
  m.kind = stmt.column_text(6);
  return std::optional<ModuleRow>(std::move(m));
}

Result<std::vector<std::string>> ModuleRows::names() {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("SELECT name FROM module_access ORDER BY name"));
  std::vector<std::string> names;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    names.push_back(stmt.column_text(0));
  }
  return names;
}

Result<std::vector<int64_t>> ModuleRows::versions(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("SELECT version FROM modules WHERE name=? ORDER BY version"));
  stmt.bind(1, name);
  std::vector<int64_t> numbers;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    numbers.push_back(stmt.column_int(0));
  }
  return numbers;
}

Status ModuleRows::insert_access(const std::string& name, int64_t owner_uid,
                                 const std::string& owner_name, const std::string& visibility) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto insert, store_.db().prepare("INSERT INTO module_access(name, owner_uid, owner_name, "
                                       "visibility, next_version) VALUES(?,?,?,?,2)"));
  return insert.bind(1, name).bind(2, owner_uid).bind(3, owner_name).bind(4, visibility).run();
}

Status ModuleRows::bump_version(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto bump,
      store_.db().prepare("UPDATE module_access SET next_version = next_version + 1 WHERE name=?"));
  return bump.bind(1, name).run();
}

Status ModuleRows::insert(const ModuleRow& m) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("INSERT INTO modules(name, version, kind, content, "
                                               "digest, owner_uid, owner_name, created_at) "
                                               "VALUES(?,?,?,?,?,?,?,?)"));
  return stmt.bind(1, m.name)
      .bind(2, m.version)
      .bind(3, m.kind)
      .bind(4, m.content)
      .bind(5, m.digest)
      .bind(6, m.owner_uid)
      .bind(7, m.owner_name)
      .bind(8, m.created_at)
      .run();
}

Status ModuleRows::remove(const std::string& name, int64_t version) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto del, store_.db().prepare(version > 0 ? "DELETE FROM modules WHERE name=?1 AND version=?2"
                                                : "DELETE FROM modules WHERE name=?1"));
  del.bind(1, name);
  if (version > 0) del.bind(2, version);
  return del.run();
}

Status ModuleRows::remove_access(const std::string& name) {
  SLIPWAY_ASSIGN_OR_RETURN(auto drop,
                           store_.db().prepare("DELETE FROM module_access WHERE name=?"));
  return drop.bind(1, name).run();
}

Status ModuleRows::share(const std::string& name, const std::string& visibility,
                         const std::string& group) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare("UPDATE module_access SET visibility=?, group_name=? WHERE name=?"));
  return stmt.bind(1, visibility).bind(2, group).bind(3, name).run();
}

}  // namespace slipway::controller
