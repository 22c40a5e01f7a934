#include "controller/store/event_store.h"

#include "controller/store/store.h"

namespace slipway::controller {

Value Event::to_value() const {
  return Value::object()
      .set("id", id)
      .set("at", at)
      .set("deployment", deployment)
      .set("kind", kind)
      .set("message", message);
}

Result<int64_t> EventStore::insert(const Event& event) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare("INSERT INTO events(at, deployment, kind, message) VALUES(?,?,?,?)"));
  SLIPWAY_RETURN_IF_ERROR(stmt.bind(1, event.at)
                              .bind(2, event.deployment)
                              .bind(3, event.kind)
                              .bind(4, event.message)
                              .run());
  return store_.db().last_insert_rowid();
}

Result<std::vector<Event>> EventStore::recent(const std::string& deployment, int limit) {
  SLIPWAY_ASSIGN_OR_RETURN(
      auto stmt,
      store_.db().prepare("SELECT id, at, deployment, kind, message FROM events "
                          "WHERE (?1 = '' OR deployment = ?1) ORDER BY id DESC LIMIT ?2"));
  stmt.bind(1, deployment).bind(2, static_cast<int64_t>(limit));
  std::vector<Event> events;
  for (;;) {
    SLIPWAY_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    events.push_back(Event{stmt.column_int(0), stmt.column_int(1), stmt.column_text(2),
                           stmt.column_text(3), stmt.column_text(4)});
  }
  return std::vector<Event>(events.rbegin(), events.rend());
}

}  // namespace slipway::controller
