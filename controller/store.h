// The controller's store: one SQLite database (WAL) holding everything needed
// to carry on after a restart. Opening it applies the migrations of
// controller/schema.cpp in order; a database from a newer Slipway is refused.
//
// Not thread-safe: the store belongs to the controller's event loop thread.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "controller/sqlite.h"

namespace slipway::controller {

class Store {
 public:
  // Opens or creates the database at `path` ("" or ":memory:" for a private
  // in-memory one) and migrates it to the current schema.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  sql::Database& db() { return db_; }
  int schema_version();

 private:
  explicit Store(sql::Database db) : db_(std::move(db)) {}
  Status migrate();
  sql::Database db_;
};

}  // namespace slipway::controller
