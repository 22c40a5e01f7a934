#include "controller/store/log_store.h"

#include "controller/store/store.h"

namespace slipway::controller {

bool valid_report_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment) {
      if (static_cast<unsigned char>(c) < 0x20) return false;
    }
    start = end + 1;
  }
  return true;
}

Result<int64_t> LogStore::append(const std::string& deployment, const std::string& instance,
                                 const std::string& step, int64_t stream, uint64_t seq,
                                 const std::string& data) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt, store_.db().prepare("INSERT OR IGNORE INTO logs(deployment, instance, step, "
                                     "stream, seq, at, data) VALUES(?,?,?,?,?,?,?)"));
  SLIPWAY_RETURN_IF_ERROR(stmt.bind(1, deployment)
                              .bind(2, instance)
                              .bind(3, step)
                              .bind(4, stream)
                              .bind(5, static_cast<int64_t>(seq))
                              .bind(6, clock_.wall_ms())
                              .bind_blob(7, data)
                              .run());
  return store_.db().changes() > 0 ? store_.db().last_insert_rowid() : 0;
}

Result<std::vector<LogChunk>> LogStore::read(const std::string& deployment,
                                             const std::string& instance, int64_t after,
                                             int limit) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare(
          "SELECT id, instance, step, stream, at, data FROM logs WHERE deployment=?1 AND id>?2 "
          "AND (?3 = '' OR instance = ?3) ORDER BY id LIMIT ?4"));
  stmt.bind(1, deployment).bind(2, after).bind(3, instance).bind(4, static_cast<int64_t>(limit));
  std::vector<LogChunk> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(LogChunk{stmt.column_int(0), stmt.column_text(1), stmt.column_text(2),
                           stmt.column_int(3), stmt.column_int(4), stmt.column_text(5)});
  }
  return out;
}

Status LogStore::report_chunk(const std::string& deployment, const std::string& instance,
                              const std::string& name, uint64_t offset, const std::string& data,
                              bool last) {
  if (!valid_report_name(name)) {
    return Error(Code::kInvalidArgument, "\"" + name + "\" is not a report file name");
  }
  sql::Transaction tx(store_.db());
  SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
  if (offset == 0) {
    // The agent starts the file (again, after a reconnect): drop what was there.
    SLIPWAY_ASSIGN_OR_RETURN(
        auto drop,
        store_.db().prepare("DELETE FROM reports WHERE deployment=? AND instance=? AND name=?"));
    SLIPWAY_RETURN_IF_ERROR(drop.bind(1, deployment).bind(2, instance).bind(3, name).run());
  }
  SLIPWAY_ASSIGN_OR_RETURN(
      auto sizes,
      store_.db().prepare("SELECT COALESCE(SUM(length(data)), 0), "
                          "COALESCE(SUM(CASE WHEN name=?3 THEN length(data) ELSE 0 END), 0) "
                          "FROM reports WHERE deployment=?1 AND instance=?2"));
  sizes.bind(1, deployment).bind(2, instance).bind(3, name);
  SLIPWAY_ASSIGN_OR_RETURN(bool row, sizes.step());
  int64_t total = row ? sizes.column_int(0) : 0;
  int64_t current = row ? sizes.column_int(1) : 0;
  sizes.reset();
  if (static_cast<int64_t>(offset) < current && offset > 0) {
    // A chunk sent again after a reconnect (its answer was lost): what is
    // stored already holds it when a chunk of that offset and size is there.
    SLIPWAY_ASSIGN_OR_RETURN(
        auto same, store_.db().prepare("SELECT 1 FROM reports WHERE deployment=? AND instance=? "
                                       "AND name=? AND offset=? AND length(data)=?"));
    same.bind(1, deployment)
        .bind(2, instance)
        .bind(3, name)
        .bind(4, static_cast<int64_t>(offset))
        .bind(5, static_cast<int64_t>(data.size()));
    SLIPWAY_ASSIGN_OR_RETURN(bool stored, same.step());
    if (stored) return ok_status();
  }
  if (static_cast<int64_t>(offset) != current) {
    return Error(Code::kInvalidArgument, "report " + name + ": chunk at offset " +
                                             std::to_string(offset) + " does not follow the " +
                                             std::to_string(current) + " bytes received");
  }
  if (static_cast<size_t>(total) + data.size() > kMaxReportBytes) {
    return Error(Code::kInvalidArgument, "the reports of " + instance + " are over 64 MiB");
  }
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("INSERT INTO reports(deployment, instance, name, "
                                               "offset, data, last) VALUES(?,?,?,?,?,?)"));
  SLIPWAY_RETURN_IF_ERROR(stmt.bind(1, deployment)
                              .bind(2, instance)
                              .bind(3, name)
                              .bind(4, static_cast<int64_t>(offset))
                              .bind_blob(5, data)
                              .bind(6, int64_t{last})
                              .run());
  return tx.commit();
}

Result<std::vector<ReportPiece>> LogStore::report_pieces(const std::string& deployment,
                                                         int64_t after, int limit) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt,
                           store_.db().prepare("SELECT rowid, instance, name, offset, data, last "
                                               "FROM reports WHERE deployment=? AND rowid>? "
                                               "ORDER BY rowid LIMIT ?"));
  stmt.bind(1, deployment).bind(2, after).bind(3, static_cast<int64_t>(limit));
  std::vector<ReportPiece> out;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(ReportPiece{stmt.column_int(0), stmt.column_text(1), stmt.column_text(2),
                              static_cast<uint64_t>(stmt.column_int(3)), stmt.column_text(4),
                              stmt.column_int(5) != 0});
  }
  return out;
}

}  // namespace slipway::controller
