#include "appliance/store/downgrade.hpp"

#include "appliance/store/migrations.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <system_error>

namespace consult::store {

namespace fs = std::filesystem;

namespace {

constexpr int kCopiesKept = 3;
constexpr const char* kSnapshotPrefix = "schema-";
constexpr const char* kSnapshotSuffix = ".sqlite";
constexpr const char* kKeptPrefix = "consult.db.schema-";

std::string quoted_literal(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

std::string quoted_name(const std::string& s) {
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

void sync_path(const fs::path& p, bool directory) {
    const int fd = ::open(p.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

// A consistent copy of `db` (its WAL included) at `to`, written beside it and renamed.
void copy_store(Database& db, const fs::path& to) {
    const fs::path tmp = to.string() + ".tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    try {
        db.exec("VACUUM INTO " + quoted_literal(tmp.string()));
    } catch (const StoreError& e) {
        fs::remove(tmp, ec);
        throw StoreError(e.code(), "cannot copy the store to " + to.string() + ": " + e.what());
    }
    sync_path(tmp, false);
    fs::rename(tmp, to, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw StoreError(0, "cannot rename the copy of the store to " + to.string());
    }
    sync_path(to.parent_path(), true);
}

// Files in `dir` whose names start with `prefix`, newest first.
std::vector<fs::path> newest_first(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
    std::vector<std::pair<fs::file_time_type, fs::path>> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (!e.is_regular_file(ec) || !name.starts_with(prefix) || !name.ends_with(suffix)) continue;
        found.emplace_back(e.last_write_time(ec), e.path());
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<fs::path> out;
    for (auto& f : found) out.push_back(std::move(f.second));
    return out;
}

void keep_newest(const fs::path& dir, const std::string& prefix, const std::string& suffix) {
    auto files = newest_first(dir, prefix, suffix);
    std::error_code ec;
    for (size_t i = kCopiesKept; i < files.size(); ++i) fs::remove(files[i], ec);
}

// The schema number of "schema-<N>.sqlite", or -1.
int snapshot_schema(const fs::path& p) {
    std::string name = p.filename().string();
    if (!name.starts_with(kSnapshotPrefix) || !name.ends_with(kSnapshotSuffix)) return -1;
    name = name.substr(std::string(kSnapshotPrefix).size(),
                       name.size() - std::string(kSnapshotPrefix).size() - std::string(kSnapshotSuffix).size());
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (name.empty() || name.size() > 6 || !std::all_of(name.begin(), name.end(), digit)) return -1;
    return std::stoi(name);
}

std::string compact_utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::vector<std::string> column_of(Database& db, const std::string& sql) {
    std::vector<std::string> out;
    auto st = db.prepare(sql);
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<std::string> table_columns(Database& db, const std::string& schema, const std::string& table) {
    return column_of(db, "SELECT name FROM pragma_table_info(" + quoted_literal(table) + ", " + quoted_literal(schema) +
                             ") ORDER BY cid");
}

// The copy to start from: the newest one of a schema this build knows and that reads
// as a sound store. Nothing when there is none.
std::optional<fs::path> usable_snapshot(const fs::path& dir) {
    std::vector<std::pair<int, fs::path>> candidates;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const int n = snapshot_schema(e.path());
        if (n > 0 && n <= latest_schema_version() && e.is_regular_file(ec)) candidates.emplace_back(n, e.path());
    }
    std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [n, path] : candidates) {
        try {
            auto db = Database::open(path, Database::Mode::ReadOnly);
            if (db.user_version() == n && db.quick_check() == "ok") return path;
        } catch (const StoreError&) {
        }
    }
    return std::nullopt;
}

// Every row of the attached newer store into this store's tables and columns, with
// this store's triggers set aside meanwhile. A table whose rows do not fit keeps the
// copy's rows.
void reapply(Database& db, Downgrade& d) {
    struct Trigger {
        std::string name, sql;
    };
    std::vector<Trigger> triggers;
    {
        auto st = db.prepare("SELECT name, sql FROM main.sqlite_schema WHERE type = 'trigger' ORDER BY name");
        while (st.step()) triggers.push_back({st.text(0), st.text(1)});
    }
    const auto ours = column_of(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                                    "'sqlite_%' ORDER BY name");
    const auto theirs_list = column_of(db, "SELECT name FROM newer.sqlite_schema WHERE type = 'table' AND name NOT "
                                           "LIKE 'sqlite_%' ORDER BY name");
    const std::set<std::string> theirs(theirs_list.begin(), theirs_list.end());

    Transaction tx(db);
    for (const auto& t : triggers) db.exec("DROP TRIGGER main." + quoted_name(t.name));
    for (const auto& table : ours) {
        if (!theirs.count(table)) {
            d.kept_as_copied.push_back(table + ": the newer store has no such table");
            continue;
        }
        const auto our_columns = table_columns(db, "main", table);
        const auto their_columns = table_columns(db, "newer", table);
        const std::set<std::string> theirs_set(their_columns.begin(), their_columns.end());
        std::string cols;
        for (const auto& c : our_columns)
            if (theirs_set.count(c)) cols += (cols.empty() ? "" : ", ") + quoted_name(c);
        if (cols.empty()) {
            d.kept_as_copied.push_back(table + ": no column in common");
            continue;
        }
        db.exec("SAVEPOINT reapply");
        try {
            db.exec("DELETE FROM main." + quoted_name(table));
            db.exec("INSERT INTO main." + quoted_name(table) + " (" + cols + ") SELECT " + cols + " FROM newer." +
                    quoted_name(table));
            db.exec("RELEASE reapply");
            d.reapplied.push_back(table);
        } catch (const StoreError& e) {
            db.exec("ROLLBACK TO reapply");
            db.exec("RELEASE reapply");
            d.kept_as_copied.push_back(table + ": " + e.what());
        }
    }
    // AUTOINCREMENT counters never go back: a number the newer version gave out stays used.
    const auto counts = [&](const std::string& schema) {
        return !column_of(db, "SELECT name FROM " + schema + ".sqlite_schema WHERE name = 'sqlite_sequence'").empty();
    };
    const bool both_count = counts("main") && counts("newer");
    if (both_count) {
        auto st = db.prepare("SELECT name, seq FROM newer.sqlite_sequence");
        while (st.step()) {
            const std::string name = st.text(0);
            const std::int64_t seq = st.integer(1);
            auto up = db.prepare("UPDATE main.sqlite_sequence SET seq = max(seq, ?1) WHERE name = ?2");
            up.bind(1, seq).bind(2, std::string_view(name)).run();
            if (db.changes() == 0 && std::find(ours.begin(), ours.end(), name) != ours.end())
                db.prepare("INSERT INTO main.sqlite_sequence (name, seq) VALUES (?1, ?2)")
                    .bind(1, std::string_view(name))
                    .bind(2, seq)
                    .run();
        }
    }
    for (const auto& t : triggers) db.exec(t.sql);
    tx.commit();
    for (const auto& t : theirs_list)
        if (std::find(ours.begin(), ours.end(), t) == ours.end()) d.left_behind.push_back(t);
}

}  // namespace

fs::path snapshot_dir(const fs::path& state_dir) { return state_dir / "db-snapshots"; }

std::optional<fs::path> snapshot_before_migrating(Database& db, const fs::path& dir) {
    const int schema = db.user_version();
    if (schema <= 0) return std::nullopt;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw StoreError(0, "cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
    const fs::path to = dir / (kSnapshotPrefix + std::to_string(schema) + kSnapshotSuffix);
    copy_store(db, to);
    keep_newest(dir, kSnapshotPrefix, kSnapshotSuffix);
    return to;
}

std::optional<Downgrade> downgrade_if_newer(const fs::path& db_path, const fs::path& dir) {
    std::error_code ec;
    if (!fs::exists(db_path, ec)) return std::nullopt;
    Downgrade d;
    d.to_schema = latest_schema_version();
    {
        auto newer = Database::open(db_path);
        d.from_schema = newer.user_version();
        if (d.from_schema <= d.to_schema) return std::nullopt;
        // Everything in the main file, then a whole copy kept aside.
        newer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        d.kept = db_path.parent_path() / (kKeptPrefix + std::to_string(d.from_schema) + "-" + compact_utc_now());
        copy_store(newer, d.kept);
    }

    const fs::path restoring = db_path.string() + ".restoring";
    auto clean_up = [&] {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(restoring.string() + suffix, ec);
    };
    clean_up();
    try {
        if (auto snap = usable_snapshot(dir)) {
            fs::copy_file(*snap, restoring, fs::copy_options::overwrite_existing);
            d.snapshot = *snap;
        }
        {
            auto db = Database::open(restoring);
            migrate(db);   // the copy may be of an older schema still
            db.exec("PRAGMA foreign_keys=OFF");
            db.exec("ATTACH DATABASE " + quoted_literal(d.kept.string()) + " AS newer");
            reapply(db, d);
            db.exec("DETACH DATABASE newer");
            db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
            db.exec("PRAGMA journal_mode=DELETE");
        }
        sync_path(restoring, false);
        // The newer store's WAL is empty (checkpointed above): nothing in it is lost.
        for (const char* suffix : {"-wal", "-shm"}) fs::remove(db_path.string() + suffix, ec);
        fs::rename(restoring, db_path, ec);
        if (ec) throw StoreError(0, "cannot put the re-applied store in place: " + ec.message());
        sync_path(db_path.parent_path(), true);
    } catch (const StoreError& e) {
        clean_up();
        throw StoreError(e.code(), "going back from schema " + std::to_string(d.from_schema) + " to " +
                                       std::to_string(d.to_schema) + ": " + e.what() +
                                       " (the newer store is unchanged)");
    } catch (const fs::filesystem_error& e) {
        clean_up();
        throw StoreError(0, "going back from schema " + std::to_string(d.from_schema) + ": " + e.what() +
                                " (the newer store is unchanged)");
    }
    keep_newest(db_path.parent_path(), kKeptPrefix, "");
    return d;
}

std::string Downgrade::summary() const {
    std::string s = "the store had schema " + std::to_string(from_schema) + ", newer than this version's " +
                    std::to_string(to_schema) + "; kept whole as " + kept.string() + "; started from " +
                    (snapshot.empty() ? std::string("an empty store") : "the copy " + snapshot.string()) +
                    " and re-applied the rows of " + std::to_string(reapplied.size()) + " table(s)";
    if (!kept_as_copied.empty()) {
        s += "; as copied:";
        for (const auto& k : kept_as_copied) s += " [" + k + "]";
    }
    if (!left_behind.empty()) {
        s += "; only in the kept store:";
        for (const auto& t : left_behind) s += " " + t;
    }
    return s;
}

}  // namespace consult::store
