// The SQLite adapter: RAII handles and Status errors. Nothing outside this
// file and store.cpp calls sqlite3 directly.
//
// Not thread-safe: a Database and its Statements belong to one thread.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace slipway::sql {

class Statement;

// Prepared statements kept for reuse, by SQL text: parsing and planning a
// statement costs more than running most of ours (a parameter set spent a
// third of its time in sqlite3_prepare). Shared with the Statements out on
// loan so one that outlives its Database is finalized, not returned.
struct StatementCache {
  static constexpr size_t kMaxTexts = 256;  // beyond this, statements are not kept
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle;
  bool closed = false;
};

class Database {
 public:
  // Opens (creating) the file at `path`, in WAL mode with foreign keys on.
  static Result<Database> open(const std::string& path);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements with no results (parsed every time: for
  // schema and pragmas, not for the hot path).
  Status exec(const std::string& sql);
  // One statement, from the cache when this text was prepared before; it
  // goes back, reset and unbound, when the Statement is destroyed.
  Result<Statement> prepare(std::string_view sql);
  int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  void close();
  sqlite3* db_ = nullptr;
  std::shared_ptr<StatementCache> cache_ = std::make_shared<StatementCache>();
};

// A prepared statement. bind_* take 1-based indexes; column_* 0-based.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, std::string_view bytes);
  Statement& bind_null(int index);

  // Advances: true with a row, false when done; an Error on failure.
  Result<bool> step();
  // Runs a statement that returns no rows.
  Status run();
  void reset();

  int64_t column_int(int index) const;
  std::string column_text(int index) const;
  bool column_is_null(int index) const;
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::shared_ptr<StatementCache> cache,
            std::vector<sqlite3_stmt*>* home)
      : db_(db), stmt_(stmt), cache_(std::move(cache)), home_(home) {}
  void release();
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<StatementCache> cache_;       // null: not cached
  std::vector<sqlite3_stmt*>* home_ = nullptr;  // where it goes back
};

// BEGIN IMMEDIATE ... COMMIT; rolled back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Status begin_status() const { return begin_; }
  Status commit();

 private:
  Status run(const char* sql);
  Database& db_;
  Status begin_;
  bool done_ = false;
};

}  // namespace slipway::sql
