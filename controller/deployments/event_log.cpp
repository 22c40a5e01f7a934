#include "controller/deployments/event_log.h"

#include "common/log.h"
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

void EventLog::record(const std::string& deployment, const std::string& kind,
                      const std::string& message) {
  Event event{0, clock_.wall_ms(), deployment, kind, message};
  LOG_INFO("%s%s%s: %s", deployment.c_str(), deployment.empty() ? "" : " ", kind.c_str(),
           message.c_str());
  auto stmt =
      store_.db().prepare("INSERT INTO events(at, deployment, kind, message) VALUES(?,?,?,?)");
  if (stmt.ok() &&
      stmt->bind(1, event.at).bind(2, deployment).bind(3, kind).bind(4, message).run().ok()) {
    event.id = store_.db().last_insert_rowid();
  } else {
    LOG_ERROR("cannot record event %s in the store", kind.c_str());
  }
  // A subscriber may unsubscribe while being called; iterate over a copy.
  auto subscribers = subscribers_;
  for (auto& [id, subscriber] : subscribers) subscriber(event);
}

Result<std::vector<Event>> EventLog::recent(const std::string& deployment, int limit) {
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

int EventLog::subscribe(Subscriber subscriber) {
  int id = next_subscriber_++;
  subscribers_[id] = std::move(subscriber);
  return id;
}

void EventLog::unsubscribe(int id) {
  subscribers_.erase(id);
}

}  // namespace slipway::controller
