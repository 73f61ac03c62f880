#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::store {
namespace {

class Store : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(Database::open(dir_ / "a.db"));
        migrate(*db_);
        exec("INSERT INTO clinics(id, name) VALUES ('" + clinic + "', 'C')");
        exec("INSERT INTO doctors(id, clinic_id, full_name) VALUES ('" + doctor + "', '" + clinic + "', 'Dr D')");
        exec("INSERT INTO patients(id, clinic_id, full_name, phone) VALUES ('" + patient + "', '" + clinic +
             "', 'P', '+15550001111')");
    }
    void exec(const std::string& sql) { db_->exec(sql); }
    bool refused(const std::string& sql) {
        try {
            db_->exec(sql);
        } catch (const StoreError& e) {
            return e.is_constraint();
        }
        return false;
    }
    std::string appointment(const std::string& id, const std::string& start, const std::string& type = "video",
                            const std::string& status = "scheduled") {
        return "INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status) "
               "VALUES ('" + id + "', '" + clinic + "', '" + doctor + "', '" + patient + "', '" + start + "', '" +
               type + "', '" + status + "')";
    }

    const std::string clinic = "00000000-0000-4000-8000-0000000000c1";
    const std::string doctor = "00000000-0000-4000-8000-0000000000d1";
    const std::string patient = "00000000-0000-4000-8000-0000000000a1";
    test::TempDir dir_;
    std::optional<Database> db_;
};

TEST_F(Store, AppointmentRoundTrip) {
    exec(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z"));
    auto st = db_->prepare("SELECT consultation_type, status, duration_minutes, video_session_id FROM appointments");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "video");
    EXPECT_EQ(st.text(1), "scheduled");
    EXPECT_EQ(st.integer(2), 30);
    EXPECT_TRUE(st.is_null(3));
}

TEST_F(Store, ConsultationTypeIsChecked) {
    EXPECT_TRUE(refused(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z", "phone")));
}

TEST_F(Store, ForeignKeysAreEnforced) {
    EXPECT_TRUE(refused("INSERT INTO doctors(id, clinic_id, full_name) VALUES "
                        "('00000000-0000-4000-8000-0000000000d9', '00000000-0000-4000-8000-000000000999', 'X')"));
}

TEST_F(Store, VideoDoubleBookingIsRefusedButCancelledSlotsFreeUp) {
    exec(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z"));
    EXPECT_TRUE(refused(appointment("00000000-0000-4000-8000-000000000002", "2026-11-24T09:00:00.000Z", "hybrid")));
    // In-person appointments are not video slots.
    exec(appointment("00000000-0000-4000-8000-000000000003", "2026-11-24T09:00:00.000Z", "in-person"));
    exec("UPDATE appointments SET status='cancelled' WHERE id='00000000-0000-4000-8000-000000000001'");
    exec(appointment("00000000-0000-4000-8000-000000000004", "2026-11-24T09:00:00.000Z"));
}

TEST_F(Store, TimingsAreValidated) {
    auto timing = [&](int day, const char* start, const char* end, int slot) {
        return "INSERT INTO video_consultation_timings(id, doctor_id, day_of_week, start_time, end_time, "
               "slot_duration_minutes) VALUES ('" + new_uuid() + "', '" + doctor + "', " + std::to_string(day) +
               ", '" + start + "', '" + end + "', " + std::to_string(slot) + ")";
    };
    exec(timing(1, "09:00", "12:00", 30));
    EXPECT_TRUE(refused(timing(7, "09:00", "12:00", 30)));
    EXPECT_TRUE(refused(timing(-1, "09:00", "12:00", 30)));
    EXPECT_TRUE(refused(timing(1, "12:00", "09:00", 30)));
    EXPECT_TRUE(refused(timing(1, "9am", "12:00", 30)));
    EXPECT_TRUE(refused(timing(1, "09:00", "12:00", 4)));
    EXPECT_TRUE(refused(timing(1, "09:00", "12:00", 241)));
}

TEST_F(Store, SessionsNeedAStatusFromTheLifecycleAndALongRoomName) {
    exec(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z"));
    auto session = [&](const std::string& room, const std::string& status) {
        return "INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status) VALUES ('" +
               new_uuid() + "', '00000000-0000-4000-8000-000000000001', '" + room + "', '" + status + "')";
    };
    exec(session("abcdefghijklmnopqrstuvwxyz", "scheduled"));
    EXPECT_TRUE(refused(session("abcdefghijklmnopqrstuvwxyz", "scheduled"))) << "room names are unique";
    EXPECT_TRUE(refused(session("short", "scheduled")));
    EXPECT_TRUE(refused(session("abcdefghijklmnopqrstuvwxyz0", "in_progress")));
}

TEST_F(Store, ParticipantQualityMustBeJson) {
    exec(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z"));
    const std::string sid = new_uuid();
    exec("INSERT INTO video_consultation_sessions(id, appointment_id, room_name) VALUES ('" + sid +
         "', '00000000-0000-4000-8000-000000000001', 'abcdefghijklmnopqrstuvwxyz')");
    auto participant = [&](const std::string& quality) {
        return "INSERT INTO video_consultation_participants(id, session_id, user_id, user_type, connection_quality) "
               "VALUES ('" + new_uuid() + "', '" + sid + "', 'u', 'patient', " + quality + ")";
    };
    exec(participant("'{\"rtt_ms\": 40}'"));
    EXPECT_TRUE(refused(participant("'not json'")));
}

TEST_F(Store, OutboxAndAuditRows) {
    exec("INSERT INTO outbox(table_name, row_id, payload, idempotency_key) VALUES ('s', 'r', '{}', 'k1')");
    EXPECT_TRUE(refused("INSERT INTO outbox(table_name, row_id, payload, idempotency_key) VALUES ('s', 'r', '{}', 'k1')"));
    EXPECT_TRUE(refused("INSERT INTO outbox(table_name, row_id, payload, idempotency_key) VALUES ('s', 'r', '{', 'k2')"));
    exec("INSERT INTO audit_log(actor, role, action) VALUES ('a', 'admin', 'token.issue')");
    EXPECT_TRUE(refused("INSERT INTO audit_log(actor, role, action) VALUES ('a', 'nurse', 'x')"));
}

TEST_F(Store, TransactionRollsBackUnlessCommitted) {
    {
        Transaction tx(*db_);
        exec(appointment("00000000-0000-4000-8000-000000000001", "2026-11-24T09:00:00.000Z"));
    }
    auto st = db_->prepare("SELECT count(*) FROM appointments");
    st.step();
    EXPECT_EQ(st.integer(0), 0);
}

TEST(DemoData, SeedsOnceAndIsIdempotent) {
    test::TempDir dir;
    auto db = Database::open(dir / "a.db");
    migrate(db);
    const auto now = std::chrono::system_clock::now();
    EXPECT_GT(seed_demo(db, now), 0);
    EXPECT_EQ(seed_demo(db, now), 0);
    auto count = [&](const char* table) {
        auto st = db.prepare(std::string("SELECT count(*) FROM ") + table);
        st.step();
        return st.integer(0);
    };
    EXPECT_EQ(count("clinics"), 1);
    EXPECT_EQ(count("doctors"), 2);
    EXPECT_EQ(count("appointments"), 2 * 2 * 16) << "two doctors, two days, every 30 min 09:00-17:00";
    EXPECT_EQ(count("video_consultation_timings"), 10);
}

TEST(DemoData, NameUuidsAreStable) {
    EXPECT_EQ(name_uuid("x"), name_uuid("x"));
    EXPECT_NE(name_uuid("x"), name_uuid("y"));
    EXPECT_TRUE(is_uuid(name_uuid("x")));
}

}  // namespace
}  // namespace consult::store
