// SQLite behind a small RAII wrapper. The store layer reports failures by throwing
// StoreError; the HTTP boundary maps them to responses in one place.
#pragma once

#include "appliance/domain/time.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace consult::store {

class StoreError : public std::runtime_error {
public:
    StoreError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    bool is_constraint() const { return (code_ & 0xff) == SQLITE_CONSTRAINT; }
    bool is_busy() const { return (code_ & 0xff) == SQLITE_BUSY; }
private:
    int code_;
};

struct SqliteDeleter { void operator()(sqlite3* db) const { sqlite3_close_v2(db); } };

// Prepared statements kept for reuse: parsing SQL was a large part of a request's
// time. A statement in use is never handed out twice; a second user gets a fresh one.
class StatementCache {
public:
    StatementCache() = default;
    ~StatementCache();
    StatementCache(const StatementCache&) = delete;
    StatementCache& operator=(const StatementCache&) = delete;
    // A statement for `sql`, and whether it came from (and goes back to) the cache.
    std::pair<sqlite3_stmt*, bool> take(sqlite3* db, std::string_view sql, int& rc);
    void give_back(sqlite3_stmt* s);

private:
    static constexpr std::size_t kMaxEntries = 128;
    struct Entry {
        sqlite3_stmt* stmt;
        bool in_use;
    };
    std::map<std::string, Entry, std::less<>> entries_;
};

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql, StatementCache* cache = nullptr);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, std::int64_t(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::nullptr_t);
    Statement& bind(int index, const std::optional<std::string>& text);

    bool step();   // true while there is a row
    void run();    // steps to completion
    void reset();

    std::string text(int col) const;
    std::optional<std::string> optional_text(int col) const;
    std::int64_t integer(int col) const;
    double real(int col) const;
    bool is_null(int col) const;

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
    StatementCache* cache_ = nullptr;   // set when stmt_ goes back to it
};

class Database {
public:
    enum class Mode { ReadWrite, ReadOnly };
    static Database open(const std::filesystem::path& path, Mode mode = Mode::ReadWrite);

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql) { return Statement(db_.get(), sql, cache_.get()); }
    int user_version();
    std::string quick_check();   // "ok" or SQLite's list of problems
    // How long a write waits for another connection's lock before SQLITE_BUSY. The
    // main loop's connection keeps this short; workers and tools wait longer.
    void set_busy_timeout(std::chrono::milliseconds wait);
    // Could a write start now? Takes and drops the write lock without waiting.
    bool write_lock_free();
    std::int64_t changes() const { return sqlite3_changes64(db_.get()); }
    std::filesystem::path filename() const { return sqlite3_db_filename(db_.get(), "main"); }
    sqlite3* raw() const { return db_.get(); }

private:
    explicit Database(sqlite3* db) : db_(db) {}
    std::unique_ptr<sqlite3, SqliteDeleter> db_;
    std::unique_ptr<StatementCache> cache_ = std::make_unique<StatementCache>();   // finalized before db_ closes
    int busy_timeout_ms_ = 5000;
};

// What /healthz says of the store: readable, writable now, room left on its disk.
struct StoreHealth {
    enum class State { Ok, Busy, Full, Broken } state = State::Ok;
    std::string detail;   // for Broken/Full: what failed
    bool serving() const { return state == State::Ok || state == State::Busy; }
    const char* name() const;
};
// `min_free_bytes`: below this on the database's file system the store counts as full.
StoreHealth check_health(Database& db, const std::filesystem::path& db_dir, std::uint64_t min_free_bytes);

// BEGIN IMMEDIATE on construction; rolls back unless commit() was called.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();
private:
    Database& db_;
    bool done_ = false;
};

// A random UUID (version 4), the primary key form shared with the cloud.
std::string new_uuid();
bool is_uuid(std::string_view s);
using domain::iso_utc;
using domain::now_iso;

}  // namespace consult::store
