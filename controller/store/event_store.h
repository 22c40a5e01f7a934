// The events table: the controller's event log, oldest first by id.
//
// Not thread-safe: event loop only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace slipway::controller {

class Store;

struct Event {
  int64_t id = 0;
  int64_t at = 0;  // wall ms
  std::string deployment;
  std::string kind;  // "agent.connected", "deployment.state", ...
  std::string message;
  Value to_value() const;
};

class EventStore {
 public:
  explicit EventStore(Store& store) : store_(store) {}

  // Appends `event` (its id is ignored) and returns the id it was given. A
  // store failure is kIo, or kAlreadyExists when a constraint refuses it.
  Result<int64_t> insert(const Event& event);
  // The latest `limit` events, oldest first; of one deployment unless it is
  // "". Empty when none matched; a store failure is kIo.
  Result<std::vector<Event>> recent(const std::string& deployment, int limit);

 private:
  Store& store_;
};

}  // namespace slipway::controller
