#include "controller/store/barrier_store.h"

#include <set>

#include "unit/store_rows.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::store_test;

TEST_CASE("barrier rows come back as written, a row written twice once", "[store]") {
  auto store = open_store();
  add_deployment(*store, "d");
  BarrierRows rows(*store);
  CHECK(rows.put_all({{"d", "all", "web.1"}, {"d", "all", "web.2"}}).empty());
  CHECK(rows.put_all({{"d", "all", "web.1"}, {"d", "all", ""}}).empty());
  auto all = rows.all("d");
  REQUIRE(all.ok());
  std::set<std::string> seen;
  for (const auto& row : *all) seen.insert(row.name + "/" + row.instance);
  CHECK(seen == std::set<std::string>{"all/", "all/web.1", "all/web.2"});
}

TEST_CASE("a deployment with no barrier rows has none", "[store]") {
  auto store = open_store();
  BarrierRows rows(*store);
  auto none = rows.all("nobody");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("a barrier row that cannot be written is named, and the others are written", "[store]") {
  auto store = open_store();
  add_deployment(*store, "d");
  BarrierRows rows(*store);
  auto failed = rows.put_all({{"d", "all", "web.1"}, {"nobody", "all", "web.1"}});
  REQUIRE(failed.size() == 1);
  CHECK(failed.begin()->first == 1);
  CHECK(rows.all("d")->size() == 1);
  exec(*store, "ALTER TABLE barriers RENAME TO barriers_away");
  CHECK(rows.put_all({{"d", "x", "web.1"}, {"d", "x", "web.2"}}).size() == 2);
  auto gone = rows.all("d");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code() == Code::kIo);
}
