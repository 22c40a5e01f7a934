#include "controller/store/store.h"

#include <catch2/catch.hpp>

#include "common/clock.h"
#include "controller/agents/key_registry.h"
#include "controller/store/log_store.h"
#include "controller/store/schema.h"
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

TEST_CASE("report chunks come in order, one sent again after a reconnect is no error", "[store]") {
  auto store = Store::open(":memory:");
  REQUIRE(store.ok());
  ManualClock clock;
  REQUIRE((*store)
              ->db()
              .exec("INSERT INTO deployments(id, module, owner_uid, owner_name, state, "
                    "keep_running, timeout_ms, created_at, state_since, spec) "
                    "VALUES('d', 'a/b@1', 0, 'root', 'Executing', 'always', 0, 0, 0, x'')")
              .ok());
  LogStore logs(**store, clock);
  REQUIRE(logs.report_chunk("d", "web.1", "out.txt", 0, "hello ", false).ok());
  REQUIRE(logs.report_chunk("d", "web.1", "out.txt", 6, "world", false).ok());
  // The answer to the second chunk was lost; the agent sends it again.
  CHECK(logs.report_chunk("d", "web.1", "out.txt", 6, "world", false).ok());
  REQUIRE(logs.report_chunk("d", "web.1", "out.txt", 11, "!", true).ok());
  // A gap, or an overlap that is no chunk sent before, is refused.
  CHECK_FALSE(logs.report_chunk("d", "web.1", "out.txt", 20, "x", false).ok());
  CHECK_FALSE(logs.report_chunk("d", "web.1", "out.txt", 3, "lo wo", false).ok());
  CHECK_FALSE(logs.report_chunk("d", "web.1", "../etc/passwd", 0, "x", true).ok());
  auto pieces = logs.report_pieces("d", 0, 100);
  REQUIRE(pieces.ok());
  std::string whole;
  for (const auto& p : *pieces) {
    CHECK(p.offset == whole.size());
    whole += p.data;
  }
  CHECK(whole == "hello world!");
  CHECK(pieces->back().last);
  // Paged: after the first piece, the rest.
  auto rest = logs.report_pieces("d", (*pieces)[0].row, 100);
  REQUIRE(rest.ok());
  CHECK(rest->size() == pieces->size() - 1);
}

TEST_CASE("a statement prepared again comes from the cache, reset and unbound", "[store]") {
  test::TempDir dir;
  auto db = sql::Database::open(dir.path() + "/cache.db");
  REQUIRE(db.ok());
  REQUIRE(db->exec("CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT)").ok());
  const char* insert = "INSERT INTO t(k, v) VALUES(?, ?)";
  const char* select = "SELECT v FROM t WHERE k=?";
  sqlite3_stmt* first = nullptr;
  {
    auto stmt = db->prepare(insert);
    REQUIRE(stmt.ok());
    first = stmt->handle();
    REQUIRE(stmt->bind(1, "a").bind(2, "1").run().ok());
  }
  {
    auto stmt = db->prepare(insert);
    REQUIRE(stmt.ok());
    CHECK(stmt->handle() == first);  // reused, not parsed again
    // Unbound: the old "a" is not still bound to ?1.
    REQUIRE(stmt->bind(2, "2").run().ok());
  }
  // Two of the same text open at once are two statements: a query nested in
  // a loop over the same query sees its own rows.
  auto outer = db->prepare(select);
  auto inner = db->prepare(select);
  REQUIRE(outer.ok());
  REQUIRE(inner.ok());
  CHECK(outer->handle() != inner->handle());
  outer->bind(1, "a");
  inner->bind_null(1);
  REQUIRE(outer->step().value());
  CHECK(outer->column_text(0) == "1");
  CHECK_FALSE(inner->step().value());  // k = NULL matches nothing
}

TEST_CASE("a statement that outlives its database is finalized, not returned", "[store]") {
  test::TempDir dir;
  std::optional<sql::Statement> kept;
  {
    auto db = sql::Database::open(dir.path() + "/gone.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t(k TEXT)").ok());
    auto stmt = db->prepare("SELECT k FROM t");
    REQUIRE(stmt.ok());
    kept.emplace(std::move(*stmt));
  }
  kept.reset();  // must neither crash nor leak (ASan checks both)
  SUCCEED();
}
