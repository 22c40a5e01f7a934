#include "controller/deployments/event_log.h"

#include "common/log.h"

namespace slipway::controller {

void EventLog::record(const std::string& deployment, const std::string& kind,
                      const std::string& message) {
  Event event{0, clock_.wall_ms(), deployment, kind, message};
  LOG_INFO("%s%s%s: %s", deployment.c_str(), deployment.empty() ? "" : " ", kind.c_str(),
           message.c_str());
  auto stored = rows_.insert(event);
  if (stored.ok()) {
    event.id = *stored;
  } else {
    LOG_ERROR("cannot record event %s in the store", kind.c_str());
  }
  // A subscriber may unsubscribe while being called; iterate over a copy.
  auto subscribers = subscribers_;
  for (auto& [id, subscriber] : subscribers) subscriber(event);
}

Result<std::vector<Event>> EventLog::recent(const std::string& deployment, int limit) {
  return rows_.recent(deployment, limit);
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
