// The controller's store: one SQLite database (WAL) holding everything needed
// to carry on after a restart. Opening it applies the migrations of
// controller/schema.cpp in order; a database from a newer Slipway is refused.
//
// The store classes (one per group of tables, beside this file) fail the
// way the SQLite adapter does: kAlreadyExists when a constraint refuses a
// write (a key taken, a foreign key naming a row that is not there), kIo for
// anything else. Nothing outside controller/store/ speaks SQL.
//
// Not thread-safe: the store belongs to the controller's event loop thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "common/status.h"
#include "controller/store/sqlite.h"

namespace slipway::controller {

class Store {
 public:
  // Opens or creates the database at `path` ("" or ":memory:" for a private
  // in-memory one) and migrates it to the current schema.
  static Result<std::unique_ptr<Store>> open(const std::string& path);

  ~Store();

  sql::Database& db() { return db_; }
  int schema_version();

 private:
  explicit Store(sql::Database db) : db_(std::move(db)) {}
  Status migrate();
  // Checkpoints the WAL from a thread of its own, on its own connection: a
  // checkpoint syncs the database file, and on the event loop that sync was
  // the slowest thing a parameter set could meet. Passive checkpoints never
  // block the writer.
  void start_checkpoints(const std::string& path);
  void run_checkpoints(sql::Database checkpointer);

  sql::Database db_;
  std::thread checkpoint_thread_;
  Mutex mutex_;
  std::condition_variable_any stop_signal_;
  bool stopping_ GUARDED_BY(mutex_) = false;
};

// BEGIN IMMEDIATE ... COMMIT on the store's connection, rolled back unless
// commit() succeeded: for an operation of a domain room that writes through
// several store classes and must land whole (a deployment and its
// parameters). The store classes' own writes join it.
class StoreTransaction {
 public:
  explicit StoreTransaction(Store& store) : tx_(store.db()) {}
  // kIo when the transaction could not begin; commit() then fails too.
  Status begin_status() const { return tx_.begin_status(); }
  // kIo when the commit failed, and then nothing of it is stored.
  Status commit() { return tx_.commit(); }

 private:
  sql::Transaction tx_;
};

}  // namespace slipway::controller
