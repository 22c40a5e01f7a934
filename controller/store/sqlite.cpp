#include "controller/store/sqlite.h"

#include <utility>

namespace slipway::sql {
namespace {

Error db_error(sqlite3* db, const std::string& what) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  int code = db != nullptr ? sqlite3_errcode(db) : SQLITE_NOMEM;
  return Error(code == SQLITE_CONSTRAINT ? Code::kAlreadyExists : Code::kIo, what + ": " + message);
}

}  // namespace

Result<Database> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error err = db_error(db, "cannot open database " + path);
    sqlite3_close(db);
    return err;
  }
  Database database(db);
  sqlite3_busy_timeout(db, 5000);
  // WAL with synchronous=NORMAL: a committed transaction survives the
  // process being killed at any moment (it is in the WAL before COMMIT
  // returns); only a power loss may drop the last few.
  SLIPWAY_RETURN_IF_ERROR(
      database.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return database;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      cache_(std::exchange(other.cache_, std::make_shared<StatementCache>())) {}
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::exchange(other.cache_, std::make_shared<StatementCache>());
  }
  return *this;
}
Database::~Database() {
  close();
}

void Database::close() {
  for (auto& [text, statements] : cache_->idle)
    for (sqlite3_stmt* stmt : statements) sqlite3_finalize(stmt);
  cache_->idle.clear();
  cache_->closed = true;
  // close_v2: a Statement still out on loan keeps the connection until it
  // is finalized, instead of the close failing.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::exec(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Error(Code::kIo, "database: " + text);
  }
  return ok_status();
}

Result<Statement> Database::prepare(std::string_view sql) {
  std::vector<sqlite3_stmt*>* home = nullptr;
  auto found = cache_->idle.find(std::string(sql));
  if (found != cache_->idle.end()) {
    home = &found->second;
    if (!home->empty()) {
      sqlite3_stmt* stmt = home->back();
      home->pop_back();
      return Statement(db_, stmt, cache_, home);
    }
  } else if (cache_->idle.size() < StatementCache::kMaxTexts) {
    home = &cache_->idle[std::string(sql)];
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                         home != nullptr ? SQLITE_PREPARE_PERSISTENT : 0, &stmt,
                         nullptr) != SQLITE_OK) {
    return db_error(db_, "cannot prepare statement");
  }
  if (home == nullptr) return Statement(db_, stmt, nullptr, nullptr);
  return Statement(db_, stmt, cache_, home);
}

int64_t Database::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int Database::changes() const {
  return sqlite3_changes(db_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      cache_(std::move(other.cache_)),
      home_(std::exchange(other.home_, nullptr)) {}
Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::move(other.cache_);
    home_ = std::exchange(other.home_, nullptr);
  }
  return *this;
}
Statement::~Statement() {
  release();
}

void Statement::release() {
  if (stmt_ == nullptr) return;
  if (cache_ != nullptr && !cache_->closed && home_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    home_->push_back(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  cache_.reset();
  home_ = nullptr;
}

Statement& Statement::bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(db_, "database");
}

Status Statement::run() {
  auto result = step();
  reset();
  if (!result.ok()) return result.error();
  return ok_status();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_, index);
}
std::string Statement::column_text(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  return data != nullptr ? std::string(static_cast<const char*>(data), static_cast<size_t>(size))
                         : std::string();
}
bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

Transaction::Transaction(Database& db) : db_(db), begin_(run("BEGIN IMMEDIATE")) {
  done_ = !begin_.ok();
}
Transaction::~Transaction() {
  if (!done_) (void)run("ROLLBACK");
}
Status Transaction::commit() {
  SLIPWAY_RETURN_IF_ERROR(begin_);
  done_ = true;
  return run("COMMIT");
}
Status Transaction::run(const char* sql) {
  SLIPWAY_ASSIGN_OR_RETURN(auto stmt, db_.prepare(sql));
  return stmt.run();
}

}  // namespace slipway::sql
