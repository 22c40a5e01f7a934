#include "controller/store/event_store.h"

#include "unit/store_rows.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::store_test;

TEST_CASE("events come back oldest first, the latest of them, of one deployment or all",
          "[store]") {
  auto store = open_store();
  EventStore events(*store);
  auto first = events.insert(Event{0, 10, "d", "deployment.state", "Executing"});
  REQUIRE(first.ok());
  REQUIRE(events.insert(Event{0, 11, "", "agent.connected", "x"}).ok());
  auto last = events.insert(Event{0, 12, "d", "deployment.state", "Ready"});
  REQUIRE(last.ok());
  CHECK(*last > *first);
  auto of_d = events.recent("d", 10);
  REQUIRE(of_d.ok());
  REQUIRE(of_d->size() == 2);
  CHECK((*of_d)[0].message == "Executing");
  CHECK((*of_d)[1].id == *last);
  auto latest = events.recent("", 2);
  REQUIRE(latest->size() == 2);
  CHECK((*latest)[0].kind == "agent.connected");
  CHECK(events.recent("other", 10)->empty());
}

TEST_CASE("events that cannot be stored or read are an error", "[store]") {
  auto store = open_store();
  EventStore events(*store);
  exec(*store, "ALTER TABLE events RENAME TO events_away");
  auto stored = events.insert(Event{0, 1, "", "k", "m"});
  REQUIRE_FALSE(stored.ok());
  CHECK(stored.error().code() == Code::kIo);
  CHECK_FALSE(events.recent("", 1).ok());
}
