// A thin RAII layer over the SQLite C API: a connection, prepared statements
// and transactions, with errors as exceptions carrying SQLite's message.
// Only sqlite_store.cc uses it; the exceptions never leave that file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace nvmove::nvad::sqlite {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Statement {
 public:
  Statement(sqlite3 *db, const char *sql);
  ~Statement();
  Statement(const Statement &) = delete;
  Statement &operator=(const Statement &) = delete;

  // Parameters are numbered from 1, as in SQLite.
  Statement &bind(int index, int64_t value);
  Statement &bind(int index, const std::string &text);
  Statement &bind(int index, std::span<const uint8_t> blob);
  Statement &bind_null(int index);

  bool step();  // true while a row is available
  void run();   // step() to completion, for statements without rows
  void reset();

  // Columns are numbered from 0, as in SQLite.
  int64_t integer(int column) const;
  std::string text(int column) const;
  std::vector<uint8_t> blob(int column) const;
  bool is_null(int column) const;

 private:
  sqlite3 *db_;
  sqlite3_stmt *stmt_ = nullptr;
};

class Database {
 public:
  explicit Database(const std::string &path);
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  void exec(const std::string &sql);
  // A statement prepared once per connection and reused, reset and with no
  // bindings: preparing the same SQL for every write was most of the cost
  // of a registration.
  Statement &statement(const char *sql);
  std::string pragma(const std::string &statement);  // first column of the first row, or ""
  sqlite3 *handle() { return db_; }

 private:
  sqlite3 *db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

// Rolls back unless commit() was called: an exception halfway through a
// request's writes leaves the database as it was.
class Transaction {
 public:
  explicit Transaction(Database &db);
  ~Transaction();
  void commit();

 private:
  Database &db_;
  bool done_ = false;
};

}  // namespace nvmove::nvad::sqlite
