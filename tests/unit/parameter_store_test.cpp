#include "controller/store/parameter_store.h"

#include "unit/store_rows.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::store_test;

TEST_CASE("parameter rows come back as written, unset ones without a value", "[store]") {
  auto store = open_store();
  add_deployment(*store, "d");
  ParameterRows rows(*store);
  REQUIRE(rows.put("d", "web.1:port", std::nullopt, 1).ok());
  REQUIRE(rows.put("d", "ss:state", "Executing", 1).ok());
  REQUIRE(rows.put_all("d", {"web.1:port", "db.1:port"}, "80", 2).ok());
  auto all = rows.all("d");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].key == "db.1:port");  // sorted by key
  CHECK((*all)[1].key == "ss:state");
  CHECK((*all)[2].value == std::optional<std::string>("80"));
  REQUIRE(rows.put("d", "web.1:port", std::nullopt, 3).ok());
  CHECK_FALSE(rows.all("d")->at(2).value.has_value());
}

TEST_CASE("a deployment with no parameter rows has none, and one not stored cannot get any",
          "[store]") {
  auto store = open_store();
  ParameterRows rows(*store);
  auto none = rows.all("nobody");
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK_FALSE(rows.put("nobody", "ss:state", "Executing", 1).ok());  // its foreign key
}

TEST_CASE("parameter rows that cannot be written are none of them written", "[store]") {
  auto store = open_store();
  add_deployment(*store, "d");
  ParameterRows rows(*store);
  exec(*store,
       "CREATE TRIGGER no_db BEFORE INSERT ON parameters WHEN NEW.key = 'db.1:port' "
       "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  auto refused = rows.put_all("d", {"web.1:port", "db.1:port"}, "80", 1);
  REQUIRE_FALSE(refused.ok());
  CHECK(rows.all("d")->empty());  // all or none
  exec(*store, "ALTER TABLE parameters RENAME TO parameters_away");
  auto gone = rows.all("d");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code() == Code::kIo);
}
