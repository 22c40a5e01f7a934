#include "controller/store/store.h"

#include "controller/store/schema.h"

namespace slipway::controller {

Result<std::unique_ptr<Store>> Store::open(const std::string& path) {
  SLIPWAY_ASSIGN_OR_RETURN(sql::Database db, sql::Database::open(path.empty() ? ":memory:" : path));
  std::unique_ptr<Store> store(new Store(std::move(db)));
  SLIPWAY_RETURN_IF_ERROR(store->migrate());
  if (!path.empty() && path != ":memory:") store->start_checkpoints(path);
  return store;
}

Store::~Store() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

void Store::start_checkpoints(const std::string& path) {
  auto checkpointer = sql::Database::open(path);
  if (!checkpointer.ok()) return;  // auto-checkpoints stay on: slower, still correct
  if (!db_.exec("PRAGMA wal_autocheckpoint=0").ok()) return;
  checkpoint_thread_ = std::thread(
      [this, c = std::move(*checkpointer)]() mutable { run_checkpoints(std::move(c)); });
}

void Store::run_checkpoints(sql::Database checkpointer) {
  for (;;) {
    {
      MutexLock lock(mutex_);
      if (mutex_.wait_for(stop_signal_, std::chrono::milliseconds(500),
                          [this]() EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; }))
        break;
    }
    // A failed checkpoint is retried at the next one; the WAL only grows meanwhile.
    (void)checkpointer.exec("PRAGMA wal_checkpoint(PASSIVE)");
  }
  (void)checkpointer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

int Store::schema_version() {
  auto stmt = db_.prepare("PRAGMA user_version");
  if (!stmt.ok()) return -1;
  auto row = stmt->step();
  return row.ok() && *row ? static_cast<int>(stmt->column_int(0)) : -1;
}

Status Store::migrate() {
  auto migrations = schema_migrations();
  int current = schema_version();
  if (current < 0) return Error(Code::kIo, "cannot read the database's schema version");
  if (current > static_cast<int>(migrations.size())) {
    return Error(Code::kFailedPrecondition,
                 "the database has schema version " + std::to_string(current) +
                     ", newer than this slipwayd understands (" +
                     std::to_string(migrations.size()) + "); upgrade slipwayd");
  }
  for (size_t i = static_cast<size_t>(current); i < migrations.size(); ++i) {
    sql::Transaction tx(db_);
    SLIPWAY_RETURN_IF_ERROR(tx.begin_status());
    auto applied = db_.exec(migrations[i]);
    if (!applied.ok()) return applied.error().wrap("migration " + std::to_string(i + 1));
    SLIPWAY_RETURN_IF_ERROR(db_.exec("PRAGMA user_version = " + std::to_string(i + 1)));
    SLIPWAY_RETURN_IF_ERROR(tx.commit());
  }
  return ok_status();
}

}  // namespace slipway::controller
