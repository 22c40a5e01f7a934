#include "controller/store.h"

#include <catch2/catch.hpp>

#include "controller/key_registry.h"
#include "controller/schema.h"
#include "support/temp_dir.h"

using namespace slipway;
using namespace slipway::controller;

TEST_CASE("a new store is migrated to the latest schema", "[store]") {
  auto store = Store::open(":memory:");
  REQUIRE(store.ok());
  CHECK((*store)->schema_version() == static_cast<int>(schema_migrations().size()));
}

TEST_CASE("a store from a newer slipwayd is refused, not damaged", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/s.db";
  {
    auto store = Store::open(path);
    REQUIRE(store.ok());
    REQUIRE((*store)->db().exec("PRAGMA user_version = 999").ok());
  }
  auto again = Store::open(path);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().message().find("newer than this slipwayd") != std::string::npos);
}

TEST_CASE("agent keys persist across reopening and revocation is final", "[store]") {
  test::TempDir dir;
  std::string path = dir.path() + "/s.db";
  {
    auto store = Store::open(path);
    AgentKeyStore keys(**store);
    REQUIRE(keys.add("KEY-A", AgentIdentity{"", "alpha"}, 1).ok());
    REQUIRE(keys.add("KEY-B", AgentIdentity{"dep1", "web.1"}, 2).ok());
    auto dup = keys.add("KEY-C", AgentIdentity{"", "alpha"}, 3);
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().code() == Code::kAlreadyExists);
  }
  auto store = Store::open(path);
  AgentKeyStore keys(**store);
  auto live = keys.live_keys();
  REQUIRE(live.ok());
  CHECK(live->size() == 2);
  auto revoked = keys.revoke(AgentIdentity{"", "alpha"});
  REQUIRE(revoked.ok());
  CHECK(*revoked == "KEY-A");
  CHECK(keys.revoke(AgentIdentity{"", "alpha"}).error().code() == Code::kNotFound);
  CHECK(keys.live_keys()->size() == 1);
  // The name is free again once its key is revoked.
  CHECK(keys.add("KEY-D", AgentIdentity{"", "alpha"}, 4).ok());
  auto by_deployment = keys.revoke_deployment("dep1");
  REQUIRE(by_deployment.ok());
  CHECK(*by_deployment == std::vector<std::string>{"KEY-B"});
}

TEST_CASE("the key registry answers what was admitted and forgets what was revoked", "[store]") {
  KeyRegistry registry;
  registry.admit("K", AgentIdentity{"d", "db.1"});
  REQUIRE(registry.find("K").has_value());
  CHECK(registry.find("K")->display() == "d/db.1");
  registry.revoke("K");
  CHECK_FALSE(registry.find("K").has_value());
}
