// The controller's event log: what happened, persisted in the store, logged to
// stderr, and streamed to `slipway events -f` subscribers.
//
// Not thread-safe: event loop only.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/store/event_store.h"

namespace slipway::controller {

class Store;

class EventLog {
 public:
  using Subscriber = std::function<void(const Event&)>;

  EventLog(Store& store, const Clock& clock) : rows_(store), clock_(clock) {}

  // Records an event. A store failure is logged, never fatal: events are a
  // record of what happened, not a part of it.
  void record(const std::string& deployment, const std::string& kind, const std::string& message);

  // The latest `limit` events, oldest first; of one deployment unless it is "".
  Result<std::vector<Event>> recent(const std::string& deployment, int limit);

  int subscribe(Subscriber subscriber);
  void unsubscribe(int id);

 private:
  EventStore rows_;
  const Clock& clock_;
  std::map<int, Subscriber> subscribers_;
  int next_subscriber_ = 1;
};

}  // namespace slipway::controller
