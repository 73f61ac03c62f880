#include "appliance/store/database.hpp"

#include <openssl/rand.h>
#include <sys/statvfs.h>

#include <cstdio>
#include <utility>

namespace consult::store {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
    throw StoreError(db ? sqlite3_extended_errcode(db) : rc,
                     std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

}  // namespace

StatementCache::~StatementCache() {
    for (auto& [sql, e] : entries_) sqlite3_finalize(e.stmt);
}

std::pair<sqlite3_stmt*, bool> StatementCache::take(sqlite3* db, std::string_view sql, int& rc) {
    auto it = entries_.find(sql);
    if (it != entries_.end() && !it->second.in_use) {
        it->second.in_use = true;
        rc = SQLITE_OK;
        return {it->second.stmt, true};
    }
    sqlite3_stmt* s = nullptr;
    rc = sqlite3_prepare_v3(db, sql.data(), int(sql.size()), it == entries_.end() ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr);
    if (rc != SQLITE_OK || it != entries_.end() || entries_.size() >= kMaxEntries) return {s, false};
    entries_.emplace(std::string(sql), Entry{s, true});
    return {s, true};
}

void StatementCache::give_back(sqlite3_stmt* s) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (auto& [sql, e] : entries_)
        if (e.stmt == s) {
            e.in_use = false;
            return;
        }
    sqlite3_finalize(s);   // not ours after all
}

Statement::Statement(sqlite3* db, std::string_view sql, StatementCache* cache) : db_(db) {
    int rc = SQLITE_OK;
    if (cache) {
        auto [s, cached] = cache->take(db, sql, rc);
        stmt_ = s;
        if (cached) cache_ = cache;
    } else {
        rc = sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &stmt_, nullptr);
    }
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
        cache_ = nullptr;
        fail(db, rc, "prepare");
    }
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), cache_(std::exchange(other.cache_, nullptr)) {}

Statement::~Statement() {
    if (!stmt_) return;
    if (cache_) cache_->give_back(stmt_);
    else sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, std::string_view text) {
    if (int rc = sqlite3_bind_text(stmt_, i, text.data(), int(text.size()), SQLITE_TRANSIENT); rc != SQLITE_OK)
        fail(db_, rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, std::int64_t v) {
    if (int rc = sqlite3_bind_int64(stmt_, i, v); rc != SQLITE_OK) fail(db_, rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, double v) {
    if (int rc = sqlite3_bind_double(stmt_, i, v); rc != SQLITE_OK) fail(db_, rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, std::nullptr_t) {
    if (int rc = sqlite3_bind_null(stmt_, i); rc != SQLITE_OK) fail(db_, rc, "bind");
    return *this;
}
Statement& Statement::bind(int i, const std::optional<std::string>& t) {
    return t ? bind(i, std::string_view(*t)) : bind(i, nullptr);
}

bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, rc, "step");
}

void Statement::run() { while (step()) {} }
void Statement::reset() { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }

std::string Statement::text(int c) const {
    auto p = sqlite3_column_text(stmt_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, c)) : std::string();
}
std::optional<std::string> Statement::optional_text(int c) const {
    if (is_null(c)) return std::nullopt;
    return text(c);
}
std::int64_t Statement::integer(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::real(int c) const { return sqlite3_column_double(stmt_, c); }
bool Statement::is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }

Database Database::open(const std::filesystem::path& path, Mode mode) {
    sqlite3* raw = nullptr;
    int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Database db(raw);
    if (rc != SQLITE_OK) fail(raw, rc, "open " + path.string());
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, db.busy_timeout_ms_);
    db.exec("PRAGMA foreign_keys=ON");
    if (mode == Mode::ReadWrite) {
        db.exec("PRAGMA journal_mode=WAL");
        // Sessions and outbox rows must survive a power cut.
        db.exec("PRAGMA synchronous=FULL");
    }
    return db;
}

void Database::exec(std::string_view sql) {
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw StoreError(sqlite3_extended_errcode(db_.get()), msg);
    }
}

int Database::user_version() {
    auto st = prepare("PRAGMA user_version");
    st.step();
    return int(st.integer(0));
}

std::string Database::quick_check() {
    auto st = prepare("PRAGMA quick_check");
    std::string out;
    while (st.step()) out += (out.empty() ? "" : "; ") + st.text(0);
    return out;
}

void Database::set_busy_timeout(std::chrono::milliseconds wait) {
    busy_timeout_ms_ = int(wait.count());
    sqlite3_busy_timeout(db_.get(), busy_timeout_ms_);
}

bool Database::write_lock_free() {
    sqlite3_busy_timeout(db_.get(), 0);
    const int rc = sqlite3_exec(db_.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_busy_timeout(db_.get(), busy_timeout_ms_);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) fail(db_.get(), rc, "begin");
    return rc == SQLITE_OK;
}

const char* StoreHealth::name() const {
    switch (state) {
    case State::Ok: return "ok";
    case State::Busy: return "busy";
    case State::Full: return "full";
    case State::Broken: return "error";
    }
    return "error";
}

StoreHealth check_health(Database& db, const std::filesystem::path& db_dir, std::uint64_t min_free_bytes) {
    StoreHealth h;
    try {
        db.user_version();
        struct statvfs fs {};
        if (::statvfs(db_dir.c_str(), &fs) == 0) {
            const std::uint64_t free_bytes = std::uint64_t(fs.f_bavail) * fs.f_frsize;
            if (free_bytes < min_free_bytes) {
                h.state = StoreHealth::State::Full;
                h.detail = std::to_string(free_bytes / 1024) + " KiB free on the state directory's disk";
                return h;
            }
        }
        if (!db.write_lock_free()) h.state = StoreHealth::State::Busy;
    } catch (const StoreError& e) {
        h.state = (e.code() & 0xff) == SQLITE_FULL ? StoreHealth::State::Full : StoreHealth::State::Broken;
        h.detail = e.what();
    }
    return h;
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
    if (!done_) {
        try { db_.exec("ROLLBACK"); } catch (const StoreError&) {}
    }
}
void Transaction::commit() { db_.exec("COMMIT"); done_ = true; }

std::string new_uuid() {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) throw StoreError(0, "no randomness for a UUID");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                  b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return out;
}

bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

}  // namespace consult::store
