#include "control/nvad/sqlite_db.h"

#include <sqlite3.h>

namespace nvmove::nvad::sqlite {
namespace {

// How long a statement waits for a lock held by another connection (the
// sqlite3 shell of an operator looking at the database) before failing.
constexpr int kBusyTimeoutMs = 2000;

[[noreturn]] void fail(sqlite3 *db, const std::string &what) {
  throw Error(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}

}  // namespace

Statement::Statement(sqlite3 *db, const char *sql) : db_(db) {
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt_, nullptr) != SQLITE_OK)
    fail(db_, std::string("cannot prepare '") + sql + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement &Database::statement(const char *sql) {
  auto &cached = statements_[sql];
  if (!cached) cached = std::make_unique<Statement>(db_, sql);
  else cached->reset();  // a step that failed left it mid-way
  return *cached;
}

Statement &Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

Statement &Statement::bind(int index, const std::string &text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    fail(db_, "bind");
  return *this;
}

Statement &Statement::bind(int index, std::span<const uint8_t> blob) {
  // A zero-length blob still binds as a blob, not NULL: SQLite wants a
  // non-null pointer for that.
  static const uint8_t kEmpty = 0;
  const void *data = blob.empty() ? &kEmpty : blob.data();
  if (sqlite3_bind_blob(stmt_, index, data, static_cast<int>(blob.size()), SQLITE_TRANSIENT) !=
      SQLITE_OK)
    fail(db_, "bind");
  return *this;
}

Statement &Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, "step");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  auto *text = reinterpret_cast<const char *>(sqlite3_column_text(stmt_, column));
  return text ? std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : "";
}

std::vector<uint8_t> Statement::blob(int column) const {
  auto *data = static_cast<const uint8_t *>(sqlite3_column_blob(stmt_, column));
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::vector<uint8_t>(data, data + size) : std::vector<uint8_t>{};
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Database::Database(const std::string &path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error(path + ": cannot open: " + message);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Database::~Database() {
  statements_.clear();  // finalized first: sqlite3_close() refuses a connection with live statements
  sqlite3_close(db_);
}

void Database::exec(const std::string &sql) {
  char *message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    throw Error(text);
  }
}

std::string Database::pragma(const std::string &statement) {
  Statement query(db_, statement.c_str());
  std::string value = query.step() ? query.text(0) : "";
  while (query.step()) {
  }
  return value;
}

Transaction::Transaction(Database &db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (done_) return;
  try {
    db_.exec("ROLLBACK");
  } catch (const Error &) {
    // Nothing more to do: SQLite has already rolled back if ROLLBACK fails.
  }
}

void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace nvmove::nvad::sqlite
