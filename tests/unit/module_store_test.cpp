// ModuleRows (store/), and what the catalog makes of a damaged row.
#include "controller/store/module_store.h"

#include "common/clock.h"
#include "controller/catalog/catalog.h"
#include "unit/store_rows.h"

using namespace slipway;
using namespace slipway::controller;
using namespace slipway::controller::store_test;

namespace {
ModuleRow version_of(const std::string& name, int64_t version) {
  return ModuleRow{name, version, "image", "kind: image\n", "digest" + std::to_string(version),
                   1000, "ann",   7};
}
}  // namespace

TEST_CASE("module rows come back as written, versions by number and names sorted", "[store]") {
  auto store = open_store();
  ModuleRows rows(*store);
  REQUIRE(rows.insert_access("z/last", 1000, "ann", "private").ok());
  REQUIRE(rows.insert_access("a/first", 1000, "ann", "public").ok());
  REQUIRE(rows.insert(version_of("z/last", 1)).ok());
  REQUIRE(rows.bump_version("z/last").ok());
  REQUIRE(rows.insert(version_of("z/last", 2)).ok());
  CHECK(rows.names().value() == std::vector<std::string>{"a/first", "z/last"});
  CHECK(rows.versions("z/last").value() == std::vector<int64_t>{1, 2});
  auto latest = rows.find("z/last", 0);
  REQUIRE(latest.ok());
  REQUIRE(latest->has_value());
  CHECK((*latest)->version == 2);
  CHECK((*latest)->digest == "digest2");
  CHECK((*latest)->kind == "image");
  CHECK(rows.find("z/last", 1).value()->digest == "digest1");
  auto access = rows.access("z/last");
  REQUIRE(access.ok());
  CHECK((*access)->next_version == 3);
  REQUIRE(rows.share("z/last", "group", "staff").ok());
  CHECK(rows.access("z/last").value()->group == "staff");
  CHECK(rows.insert(version_of("z/last", 2)).error().code() == Code::kAlreadyExists);
  REQUIRE(rows.remove("z/last", 1).ok());
  CHECK(rows.versions("z/last").value() == std::vector<int64_t>{2});
  REQUIRE(rows.remove("z/last", 0).ok());
  REQUIRE(rows.remove_access("z/last").ok());
  CHECK(rows.names().value() == std::vector<std::string>{"a/first"});
}

TEST_CASE("a module that is not stored is no row, and no error", "[store]") {
  auto store = open_store();
  ModuleRows rows(*store);
  CHECK_FALSE(rows.access("no/such").value().has_value());
  CHECK_FALSE(rows.find("no/such", 0).value().has_value());
  CHECK_FALSE(rows.find("no/such", 3).value().has_value());
  CHECK(rows.versions("no/such").value().empty());
  CHECK(rows.names().value().empty());
}

TEST_CASE("a damaged module row is an error, not a silent default", "[store]") {
  auto store = open_store();
  ManualClock clock;
  Catalog catalog(*store, clock);
  REQUIRE(catalog
              .install_builtin("kind: image\nname: base/host\nplatform: debian\n"
                               "reference: {local: {rootfs: host}}\n",
                               "base")
              .ok());
  exec(*store, "UPDATE module_access SET visibility='everyone' WHERE name='base/host'");
  auto access = catalog.access("base/host");
  REQUIRE_FALSE(access.ok());
  CHECK(access.error().code() == Code::kInternal);
  CHECK(access.error().message().find("everyone") != std::string::npos);
  CHECK_FALSE(catalog.get(Caller::system(), "base/host").ok());
  exec(*store, "ALTER TABLE modules RENAME TO modules_away");
  ModuleRows rows(*store);
  auto gone = rows.find("base/host", 0);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code() == Code::kIo);
}
