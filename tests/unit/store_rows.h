// Shared by the store classes' tests: a fresh in-memory store, and a
// deployment row for the tables that refer to one.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "controller/store/store.h"

namespace slipway::controller::store_test {

inline std::unique_ptr<Store> open_store() {
  auto store = Store::open(":memory:");
  REQUIRE(store.ok());
  return std::move(*store);
}

// Raw SQL, as only a test may: the tables below refer to a deployment.
inline void add_deployment(Store& store, const std::string& id) {
  REQUIRE(store.db()
              .exec("INSERT INTO deployments(id, module, owner_uid, owner_name, state, "
                    "keep_running, timeout_ms, created_at, state_since, spec) VALUES('" +
                    id + "', 'a/b@1', 0, 'root', 'Executing', 'always', 0, 0, 0, x'90')")
              .ok());
}

inline void exec(Store& store, const std::string& sql) {
  REQUIRE(store.db().exec(sql).ok());
}

}  // namespace slipway::controller::store_test
