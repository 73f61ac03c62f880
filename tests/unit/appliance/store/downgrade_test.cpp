// Going back to an older version after a newer one migrated the store
// (store/downgrade.hpp): the copy taken before the migration, the newer rows re-applied,
// triggers quiet meanwhile, and hostile leftovers (a garbage copy, an unknown schema).
#include "appliance/store/downgrade.hpp"

#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <unistd.h>

namespace consult::store {
namespace {

namespace fs = std::filesystem;

// This build's schema, or the next release's while one of these lives.
class NextRelease {
public:
    NextRelease() { ::setenv("CONSULT_TEST_NEXT_SCHEMA", "1", 1); }
    ~NextRelease() { ::unsetenv("CONSULT_TEST_NEXT_SCHEMA"); }
};

std::string one(Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    return st.step() ? (st.is_null(0) ? std::string("NULL") : st.text(0)) : std::string("none");
}

class StoreDowngrade : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("consult-downgrade-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path db_path() const { return dir_ / "consult.db"; }
    fs::path snapshots() const { return snapshot_dir(dir_); }

    // This version's store with the demo's rows.
    void make_store() {
        auto db = Database::open(db_path());
        migrate(db);
        seed_demo(db, std::chrono::system_clock::now());
        db.exec("INSERT INTO patient_sms_opt_outs (patient_id, error_code, at) VALUES "
                "('7e57da7a-0000-4000-8000-00000000dddd', 21610, '2026-01-01T00:00:00Z')");
    }

    // The next release starts: a copy, its migration, then rows it acknowledged.
    void next_release_runs(bool with_copy = true) {
        NextRelease next;
        auto db = Database::open(db_path());
        if (with_copy) {
            ASSERT_TRUE(snapshot_before_migrating(db, snapshots()).has_value());
        }
        ASSERT_EQ(migrate(db), 1);
        db.exec("INSERT INTO patients (id, clinic_id, full_name, phone) VALUES "
                "('7e57da7a-0000-4000-8000-00000000aaaa', '" + std::string(DemoIds::clinic) +
                "', 'Written While Newer', '+15550000001')");
        db.exec("INSERT INTO appointments (id, clinic_id, doctor_id, patient_id, starts_at, consultation_type) VALUES "
                "('7e57da7a-0000-4000-8000-00000000bbbb', '" + std::string(DemoIds::clinic) + "', '" +
                DemoIds::doctor_b + "', '7e57da7a-0000-4000-8000-00000000aaaa', '2030-01-02T09:00:00Z', 'video')");
        // The newer version already sent what the booking queued.
        db.exec("DELETE FROM appointment_changes");
        db.exec("INSERT INTO outbox (table_name, row_id, payload, idempotency_key) VALUES "
                "('patients', '7e57da7a-0000-4000-8000-00000000aaaa', '{}', 'newer-1')");
        db.exec("INSERT INTO next_release_things (id, note) VALUES ('t1', 'kept aside')");
        db.exec("DELETE FROM patient_sms_opt_outs");
    }

    fs::path dir_;
};

TEST_F(StoreDowngrade, RowsTheNewerVersionAcknowledgedAreBackInTheOlderSchemaAndNothingIsQueuedTwice) {
    make_store();
    std::string outbox_before;
    {
        auto db = Database::open(db_path());
        outbox_before = one(db, "SELECT count(*) FROM outbox");
    }
    next_release_runs();

    auto d = downgrade_if_newer(db_path(), snapshots());
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->from_schema, latest_schema_version() + 1);
    EXPECT_EQ(d->to_schema, latest_schema_version());
    EXPECT_EQ(d->snapshot, snapshots() / ("schema-" + std::to_string(latest_schema_version()) + ".sqlite"));
    EXPECT_EQ(d->left_behind, std::vector<std::string>{"next_release_things"});
    EXPECT_TRUE(d->kept_as_copied.empty()) << d->summary();
    EXPECT_NE(d->summary().find("re-applied"), std::string::npos);

    auto db = Database::open(db_path());
    EXPECT_EQ(db.user_version(), latest_schema_version());
    EXPECT_TRUE(pending_migrations(db).empty());
    EXPECT_EQ(db.quick_check(), "ok");
    EXPECT_EQ(one(db, "SELECT full_name FROM patients WHERE id = '7e57da7a-0000-4000-8000-00000000aaaa'"),
              "Written While Newer");
    EXPECT_EQ(one(db, "SELECT consultation_type FROM appointments WHERE id = '7e57da7a-0000-4000-8000-00000000bbbb'"),
              "video");
    // The outbox still pushes what the newer version queued and had not pushed.
    EXPECT_EQ(one(db, "SELECT count(*) FROM outbox"), std::to_string(std::stoi(outbox_before) + 1));
    EXPECT_EQ(one(db, "SELECT table_name FROM outbox WHERE idempotency_key = 'newer-1'"), "patients");
    // Re-applying the appointments did not queue their confirmations again...
    EXPECT_EQ(one(db, "SELECT count(*) FROM appointment_changes"), "0");
    // ...and the booking trigger is back for what comes next.
    EXPECT_EQ(one(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"), "2");
    db.exec("INSERT INTO appointments (id, clinic_id, doctor_id, patient_id, starts_at, consultation_type) VALUES "
            "('7e57da7a-0000-4000-8000-00000000cccc', '" + std::string(DemoIds::clinic) + "', '" + DemoIds::doctor_b +
            "', '7e57da7a-0000-4000-8000-00000000aaaa', '2030-01-03T09:00:00Z', 'video')");
    EXPECT_EQ(one(db, "SELECT count(*) FROM appointment_changes"), "1");
    // A row the newer version deleted stays deleted.
    EXPECT_EQ(one(db, "SELECT count(*) FROM patient_sms_opt_outs"), "0");
    EXPECT_EQ(one(db, "SELECT count(*) FROM pragma_foreign_key_check"), "0");

    // The newer store is kept whole, its own column and table included.
    auto kept = Database::open(d->kept, Database::Mode::ReadOnly);
    EXPECT_EQ(kept.user_version(), latest_schema_version() + 1);
    EXPECT_EQ(one(kept, "SELECT note FROM next_release_things"), "kept aside");
    EXPECT_EQ(one(kept, "SELECT count(*) FROM pragma_table_info('video_consultation_sessions') "
                        "WHERE name = 'next_release_note'"), "1");
    EXPECT_FALSE(fs::exists(db_path().string() + ".restoring"));
}

TEST_F(StoreDowngrade, WithoutACopyItStartsFromAnEmptyStoreAndStillLosesNoRow) {
    make_store();
    next_release_runs(/*with_copy=*/false);
    std::string patients;
    {
        NextRelease next;
        auto db = Database::open(db_path());
        patients = one(db, "SELECT count(*) FROM patients");
    }
    auto d = downgrade_if_newer(db_path(), snapshots());
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(d->snapshot.empty());
    EXPECT_NE(d->summary().find("an empty store"), std::string::npos);
    auto db = Database::open(db_path());
    EXPECT_EQ(one(db, "SELECT count(*) FROM patients"), patients);
    EXPECT_EQ(db.user_version(), latest_schema_version());
}

TEST_F(StoreDowngrade, AStoreOfThisSchemaOrOlderIsLeftAlone) {
    EXPECT_FALSE(downgrade_if_newer(db_path(), snapshots()).has_value());   // none at all
    EXPECT_FALSE(fs::exists(db_path()));
    make_store();
    EXPECT_FALSE(downgrade_if_newer(db_path(), snapshots()).has_value());
    EXPECT_FALSE(fs::exists(snapshots()));
    auto db = Database::open(db_path());
    EXPECT_EQ(db.user_version(), latest_schema_version());
}

TEST_F(StoreDowngrade, AGarbageCopyOrOneOfAnUnknownSchemaIsPassedOver) {
    make_store();
    next_release_runs();
    const fs::path ours = snapshots() / ("schema-" + std::to_string(latest_schema_version()) + ".sqlite");
    std::ofstream(ours, std::ios::trunc) << "not a database at all";
    std::ofstream(snapshots() / "schema-99999.sqlite") << "from the future";
    std::ofstream(snapshots() / "schema-x.sqlite") << "no number";
    auto d = downgrade_if_newer(db_path(), snapshots());
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(d->snapshot.empty()) << d->summary();
    auto db = Database::open(db_path());
    EXPECT_EQ(one(db, "SELECT full_name FROM patients WHERE id = '7e57da7a-0000-4000-8000-00000000aaaa'"),
              "Written While Newer");
}

TEST_F(StoreDowngrade, ATableTheNewerVersionDroppedKeepsTheCopysRows) {
    make_store();
    {
        NextRelease next;
        auto db = Database::open(db_path());
        ASSERT_TRUE(snapshot_before_migrating(db, snapshots()).has_value());
        migrate(db);
        db.exec("DROP TABLE patient_sms_opt_outs");
    }
    auto d = downgrade_if_newer(db_path(), snapshots());
    ASSERT_TRUE(d.has_value());
    ASSERT_EQ(d->kept_as_copied.size(), 1u);
    EXPECT_EQ(d->kept_as_copied[0], "patient_sms_opt_outs: the newer store has no such table");
    auto db = Database::open(db_path());
    EXPECT_EQ(one(db, "SELECT error_code FROM patient_sms_opt_outs"), "21610");
}

TEST_F(StoreDowngrade, CopiesArePerSchemaAndOnlyTheNewestThreeAreKept) {
    make_store();
    auto db = Database::open(db_path());
    auto first = snapshot_before_migrating(db, snapshots());
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(fs::status(snapshots()).permissions() & fs::perms::all, fs::perms::owner_all);
    auto again = snapshot_before_migrating(db, snapshots());
    EXPECT_EQ(first, again);   // the same schema's copy is replaced
    for (int n : {1, 2, 3}) std::ofstream(snapshots() / ("schema-" + std::to_string(n) + ".sqlite")) << "old";
    snapshot_before_migrating(db, snapshots());
    int count = 0;
    for (const auto& e : fs::directory_iterator(snapshots())) count += e.path().extension() == ".sqlite";
    EXPECT_EQ(count, 3);
    EXPECT_TRUE(fs::exists(*first));
    // A new, empty store has nothing worth a copy.
    auto empty = Database::open(dir_ / "empty.db");
    EXPECT_FALSE(snapshot_before_migrating(empty, dir_ / "none").has_value());
}

}  // namespace
}  // namespace consult::store
