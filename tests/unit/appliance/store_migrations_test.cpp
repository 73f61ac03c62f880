#include "appliance/store/migrations.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::store {
namespace {

using test::TempDir;

// The schema as SQLite records it, for comparing two databases.
std::string schema_of(Database& db) {
    auto st = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master "
                         "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
    std::string out;
    while (st.step()) out += st.text(0) + "|" + st.text(1) + "|" + st.text(2) + "|" + st.text(3) + "\n";
    return out;
}

TEST(Migrations, AreNumberedFromOneWithoutGaps) {
    int expected = 1;
    for (const auto& m : migrations()) EXPECT_EQ(m.version, expected++) << m.name;
    EXPECT_EQ(latest_schema_version(), expected - 1);
}

TEST(Migrations, ApplyToAnEmptyDatabase) {
    TempDir dir;
    auto db = Database::open(dir / "a.db");
    EXPECT_EQ(migrate(db), latest_schema_version());
    EXPECT_EQ(db.user_version(), latest_schema_version());
    EXPECT_EQ(db.quick_check(), "ok");
    EXPECT_EQ(migrate(db), 0) << "a second run applies nothing";
}

TEST(Migrations, FromEveryEarlierVersionReachTheSameSchema) {
    TempDir dir;
    auto fresh = Database::open(dir / "fresh.db");
    migrate(fresh);
    const std::string want = schema_of(fresh);
    for (int from = 1; from < latest_schema_version(); ++from) {
        auto db = Database::open(dir / ("from" + std::to_string(from) + ".db"));
        migrate(db, from);
        ASSERT_EQ(db.user_version(), from);
        ASSERT_EQ(pending_migrations(db).size(), size_t(latest_schema_version() - from));
        migrate(db);
        EXPECT_EQ(schema_of(db), want) << "migrating from version " << from;
    }
}

TEST(Migrations, KeepRowsWrittenBeforeLaterMigrations) {
    TempDir dir;
    auto db = Database::open(dir / "a.db");
    migrate(db, 1);
    db.exec("INSERT INTO clinics(id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Kept Clinic')");
    migrate(db);
    auto st = db.prepare("SELECT name FROM clinics");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "Kept Clinic");
}

TEST(Migrations, RefuseADatabaseNewerThanThisBuild) {
    TempDir dir;
    auto db = Database::open(dir / "a.db");
    migrate(db);
    db.exec("PRAGMA user_version=" + std::to_string(latest_schema_version() + 1));
    EXPECT_THROW(pending_migrations(db), StoreError);
    EXPECT_THROW(migrate(db), StoreError);
}

TEST(Migrations, AFailingMigrationLeavesTheVersionUnchanged) {
    TempDir dir;
    auto db = Database::open(dir / "a.db");
    migrate(db, 1);
    // Make migration 2 collide with an object it creates.
    db.exec("CREATE TABLE video_consultation_timings(x)");
    EXPECT_THROW(migrate(db), StoreError);
    EXPECT_EQ(db.user_version(), 1);
    auto st = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'video_consultation_sessions'");
    st.step();
    EXPECT_EQ(st.integer(0), 0) << "the failed migration rolled back as a whole";
}

TEST(Database, OpensWithWalForeignKeysAndFullSync) {
    TempDir dir;
    auto db = Database::open(dir / "a.db");
    auto mode = db.prepare("PRAGMA journal_mode");
    mode.step();
    EXPECT_EQ(mode.text(0), "wal");
    auto fk = db.prepare("PRAGMA foreign_keys");
    fk.step();
    EXPECT_EQ(fk.integer(0), 1);
    auto sync = db.prepare("PRAGMA synchronous");
    sync.step();
    EXPECT_EQ(sync.integer(0), 2) << "FULL";
}

TEST(Database, QuickCheckReportsACorruptFile) {
    TempDir dir;
    {
        auto db = Database::open(dir / "a.db");
        migrate(db);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        db.exec("PRAGMA journal_mode=DELETE");
    }
    // Overwrite page 2 from its header on: the file header survives, a b-tree does not.
    {
        std::fstream f(dir / "a.db", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096);
        std::string junk(3000, '\x5a');
        f.write(junk.data(), std::streamsize(junk.size()));
    }
    bool reported = false;
    try {
        auto db = Database::open(dir / "a.db");
        reported = db.quick_check() != "ok";
    } catch (const StoreError&) {
        reported = true;
    }
    EXPECT_TRUE(reported);
}

TEST(Uuid, NewOnesAreVersion4AndValid) {
    auto a = new_uuid(), b = new_uuid();
    EXPECT_NE(a, b);
    EXPECT_TRUE(is_uuid(a));
    EXPECT_EQ(a[14], '4');
    EXPECT_FALSE(is_uuid("not-a-uuid"));
    EXPECT_FALSE(is_uuid("zzzzzzzz-0000-4000-8000-000000000000"));
}

TEST(Time, StoredFormatIsIsoUtcWithMillis) {
    EXPECT_EQ(iso_utc(0, 5), "1970-01-01T00:00:00.005Z");
    EXPECT_EQ(now_iso().size(), 24u);
}

}  // namespace
}  // namespace consult::store
