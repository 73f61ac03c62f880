#include "appliance/cloud/pull.hpp"
#include "appliance/store/cloud_payloads.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/records.hpp"
#include "appliance/store/session_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::cloud {
namespace {

using nlohmann::json;

constexpr const char* kClinic = "c0000000-0000-4000-8000-000000000001";
constexpr const char* kDoctor = "d0000000-0000-4000-8000-000000000001";
constexpr const char* kPatient = "e0000000-0000-4000-8000-000000000001";
constexpr const char* kAppt = "a0000000-0000-4000-8000-000000000001";

json appointment(const std::string& status, const std::string& starts = "2031-03-04T10:00:00+01:00") {
    return {{"id", kAppt}, {"clinic_id", kClinic}, {"doctor_id", kDoctor}, {"patient_id", kPatient},
            {"starts_at", starts}, {"duration_minutes", 30}, {"consultation_type", "video"}, {"status", status},
            {"reason", nullptr}, {"created_at", "2024-01-01T00:00:00+00:00"}, {"updated_at", "2024-01-02T00:00:00.5+00:00"}};
}

class Pull : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(store::Database::open(dir_ / "consult.db"));
        store::migrate(*db_);
        const std::string t = "2024-01-01T00:00:00.123456+00:00";
        apply_page(*db_, "clinics", json::array({{{"id", kClinic}, {"name", "North"}, {"timezone", "UTC"},
                                                  {"phone", nullptr}, {"email", nullptr}, {"created_at", t}, {"updated_at", t}}}));
        apply_page(*db_, "profiles", json::array({{{"id", kDoctor}, {"clinic_id", kClinic}, {"full_name", "Dr A"},
                                                   {"email", "a@x.test"}, {"phone", "555"}, {"role", "doctor"},
                                                   {"is_active", true}, {"created_at", t}, {"updated_at", t}}}));
        apply_page(*db_, "patients", json::array({{{"id", kPatient}, {"clinic_id", kClinic}, {"full_name", "P"},
                                                   {"phone", "+15550100"}, {"email", "not-an-email"},
                                                   {"created_at", t}, {"updated_at", t}}}));
    }
    std::string value(const std::string& sql) {
        auto st = db_->prepare(sql);
        return st.step() ? st.text(0) : "<none>";
    }
    test::TempDir dir_;
    std::optional<store::Database> db_;
};

TEST_F(Pull, RowsLandWithLocalFormsAndBadContactDetailsAreLeftOut) {
    auto r = apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    EXPECT_EQ(r.applied, 1);
    EXPECT_EQ(value("SELECT starts_at FROM appointments"), "2031-03-04T09:00:00.000Z");
    EXPECT_EQ(value("SELECT updated_at FROM appointments"), "2024-01-02T00:00:00.500Z");
    EXPECT_EQ(value("SELECT phone FROM doctors"), "");        // not E.164: stored as NULL
    EXPECT_EQ(value("SELECT phone FROM patients"), "+15550100");
    EXPECT_EQ(value("SELECT count(*) FROM patients WHERE email IS NULL"), "1");
}

TEST_F(Pull, AnUpdateReplacesTheRowAndARowThatDoesNotFitIsSkipped) {
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    json bad = appointment("scheduled");
    bad["id"] = "a0000000-0000-4000-8000-000000000002";
    bad["status"] = "teleported";
    auto r = apply_page(*db_, "appointments", json::array({appointment("confirmed", "2031-03-04T11:00:00Z"), bad}));
    EXPECT_EQ(r.applied, 1);
    EXPECT_EQ(r.skipped, 1);
    EXPECT_EQ(value("SELECT status || ' ' || starts_at FROM appointments"), "confirmed 2031-03-04T11:00:00.000Z");
}

TEST_F(Pull, ACancelledAppointmentCancelsItsWaitingSessionWithAReason) {
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    store::SessionStore sessions(*db_);
    auto s = sessions.create(kAppt, 30, kDoctor);
    db_->exec("DELETE FROM outbox");
    auto r = apply_page(*db_, "appointments", json::array({appointment("cancelled")}));
    ASSERT_EQ(r.cancelled_appointments, std::vector<std::string>{kAppt});
    EXPECT_EQ(cancel_sessions_of(*db_, r.cancelled_appointments), 1);
    auto after = sessions.find(s.id);
    EXPECT_EQ(after->status, "cancelled");
    EXPECT_EQ(after->end_reason.value_or(""), "appointment cancelled in the clinic system");
    EXPECT_EQ(value("SELECT count(*) FROM outbox WHERE table_name = 'video_consultation_sessions'"), "1");
}

TEST_F(Pull, AnUnpushedLocalChangeIsNotOverwritten) {
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    store::SessionStore(*db_).mark_no_show(kAppt);
    auto r = apply_page(*db_, "appointments", json::array({appointment("confirmed")}));
    EXPECT_EQ(r.kept_local, 1);
    EXPECT_EQ(value("SELECT status FROM appointments"), "no-show");
}

TEST_F(Pull, TombstonesDeleteRowsOrCancelAppointmentsThatHaveSessions) {
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    auto s = store::SessionStore(*db_).create(kAppt, 30, kDoctor);
    db_->exec("DELETE FROM outbox");
    json gone = {{"id", 7}, {"table_name", "appointments"}, {"row_id", kAppt}, {"updated_at", "2024-02-01T00:00:00Z"}};
    auto r = apply_page(*db_, kTombstones, json::array({gone}));
    EXPECT_EQ(r.deleted, 1);
    EXPECT_EQ(value("SELECT status FROM appointments"), "cancelled");   // kept: its session refers to it
    EXPECT_EQ(cancel_sessions_of(*db_, r.cancelled_appointments), 1);

    // The seed's timing: duration_minutes, clinic_id, and `timestamp` columns without a zone (UTC).
    json timing = {{"id", "f0000000-0000-4000-8000-000000000001"}, {"clinic_id", kClinic}, {"doctor_id", kDoctor},
                   {"day_of_week", 1}, {"start_time", "09:00:00"}, {"end_time", "12:00:00"}, {"duration_minutes", 20},
                   {"is_active", true}, {"created_at", "2024-01-01T00:00:00"}, {"updated_at", "2024-01-01T00:00:00.25"}};
    EXPECT_EQ(apply_page(*db_, "video_consultation_timings", json::array({timing})).applied, 1);
    EXPECT_EQ(value("SELECT start_time || '-' || end_time || ' ' || slot_duration_minutes || ' ' || updated_at "
                    "FROM video_consultation_timings"), "09:00-12:00 20 2024-01-01T00:00:00.250Z");
    apply_page(*db_, kTombstones, json::array({{{"id", 8}, {"table_name", "video_consultation_timings"},
                                                {"row_id", timing["id"]}, {"updated_at", "2024-02-02T00:00:00Z"}}}));
    EXPECT_EQ(value("SELECT count(*) FROM video_consultation_timings"), "0");
}

TEST_F(Pull, TheSeedsNullsTakeItsDefaultsAndAWrongTypeIsSkipped) {
    json timing = {{"id", "f0000000-0000-4000-8000-000000000002"}, {"clinic_id", kClinic}, {"doctor_id", kDoctor},
                   {"day_of_week", 2}, {"start_time", "09:00:00"}, {"end_time", "10:00:00"}, {"duration_minutes", nullptr},
                   {"is_active", nullptr}, {"created_at", "2024-01-01T00:00:00"}, {"updated_at", "2024-01-01T00:00:00"}};
    json no_doctor = timing, text_duration = timing;
    no_doctor["id"] = "f0000000-0000-4000-8000-000000000003";
    no_doctor["doctor_id"] = nullptr;
    text_duration["id"] = "f0000000-0000-4000-8000-000000000004";
    text_duration["duration_minutes"] = "30";
    auto r = apply_page(*db_, "video_consultation_timings", json::array({timing, no_doctor, text_duration}));
    EXPECT_EQ(r.applied, 1);
    EXPECT_EQ(r.skipped, 2);
    EXPECT_EQ(value("SELECT slot_duration_minutes || ' ' || is_active FROM video_consultation_timings"), "30 1");
}

TEST_F(Pull, AProfileThatIsNotADoctorsIsNotKeptAndADoctorWhoStopsBeingOneGoes) {
    const std::string t = "2024-01-05T00:00:00+00:00";
    json desk = {{"id", "d0000000-0000-4000-8000-000000000009"}, {"clinic_id", kClinic}, {"full_name", "Desk"},
                 {"email", nullptr}, {"phone", nullptr}, {"role", "receptionist"}, {"is_active", true},
                 {"created_at", t}, {"updated_at", t}};
    apply_page(*db_, "profiles", json::array({desk}));
    EXPECT_EQ(value("SELECT count(*) FROM doctors"), "1");
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));   // refers to the doctor
    json demoted = desk;
    demoted["id"] = kDoctor;
    demoted["role"] = nullptr;
    apply_page(*db_, "profiles", json::array({demoted}));
    EXPECT_EQ(value("SELECT is_active FROM doctors"), "0");   // kept for its appointment, no longer bookable
    apply_page(*db_, kTombstones, json::array({{{"id", 9}, {"table_name", "profiles"}, {"row_id", kDoctor},
                                                {"updated_at", t}}}));
    EXPECT_EQ(value("SELECT count(*) FROM doctors"), "1");
}

TEST(CloudTime, TimestampsBecomeUtcWithMilliseconds) {
    EXPECT_EQ(to_local_time("2023-10-18T17:07:59.611+05:30"), "2023-10-18T11:37:59.611Z");
    EXPECT_EQ(to_local_time("2024-01-01T00:00:00+00:00"), "2024-01-01T00:00:00.000Z");
    EXPECT_EQ(to_local_time("2024-01-01T00:00:00.123456Z"), "2024-01-01T00:00:00.123Z");
    EXPECT_EQ(to_local_time("2024-01-01T01:00:00-0100"), "2024-01-01T02:00:00.000Z");
    EXPECT_EQ(to_local_time("2024-01-01T01:00:00+02"), "2023-12-31T23:00:00.000Z");
    EXPECT_EQ(to_local_time("2024-01-01T01:00:00.5"), "2024-01-01T01:00:00.500Z");   // the seed's `timestamp`: UTC
    EXPECT_EQ(to_local_time("yesterday"), "");
}

}  // namespace
}  // namespace consult::cloud

namespace consult::cloud {
namespace {

TEST_F(Pull, TombstonesOfTheWrongShapeAreSkippedAndThePageGoesOn) {
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    const std::string t = "2024-01-03T00:00:00+00:00";
    auto r = apply_page(*db_, std::string(kTombstones),
                        json::array({{{"id", "t1"}, {"table_name", 1}, {"row_id", kAppt}, {"updated_at", t}},
                                     {{"id", "t2"}, {"table_name", "appointments"}, {"row_id", json::array()}, {"updated_at", t}},
                                     "not an object",
                                     {{"id", "t3"}, {"table_name", "appointments"}, {"row_id", kAppt}, {"updated_at", t}}}));
    EXPECT_EQ(r.skipped, 3);
    EXPECT_EQ(r.deleted, 1);
    EXPECT_EQ(value("SELECT count(*) FROM appointments"), "0");
}

TEST_F(Pull, AnAppointmentWhoseStatusIsNotTextIsSkipped) {
    json bad = appointment("scheduled");
    bad["status"] = 7;
    auto r = apply_page(*db_, "appointments", json::array({bad}));
    EXPECT_EQ(r.skipped, 1);
    EXPECT_EQ(r.applied, 0);
}

// The clinic system links an appointment to its consultation; the session goes up with the
// seed's consultation_id, and again when the link is made after the session was.
TEST_F(Pull, TheAppointmentsConsultationGoesUpWithItsSession) {
    constexpr const char* kConsultation = "f0000000-0000-4000-8000-000000000001";
    apply_page(*db_, "appointments", json::array({appointment("scheduled")}));
    store::SessionStore sessions(*db_);
    auto s = sessions.create(kAppt, 30, kDoctor);
    EXPECT_FALSE(store::cloud_session(s).contains("consultation_id"));   // unknown: a clinic's value is not cleared
    db_->exec("DELETE FROM outbox");

    json linked = appointment("scheduled");
    linked["consultation_id"] = kConsultation;
    apply_page(*db_, "appointments", json::array({linked}));
    EXPECT_EQ(sessions.find(s.id)->consultation_id.value_or(""), kConsultation);
    auto queued = db_->prepare("SELECT payload FROM outbox WHERE table_name = 'video_consultation_sessions'");
    ASSERT_TRUE(queued.step());
    EXPECT_EQ(json::parse(queued.text(0)).value("consultation_id", ""), kConsultation);
    EXPECT_FALSE(queued.step());

    db_->exec("DELETE FROM outbox");   // the same link again: nothing new to send
    apply_page(*db_, "appointments", json::array({linked}));
    EXPECT_EQ(value("SELECT count(*) FROM outbox WHERE table_name = 'video_consultation_sessions'"), "0");

    linked["consultation_id"] = "not-a-uuid";   // passed on only when it is one
    apply_page(*db_, "appointments", json::array({linked}));
    EXPECT_EQ(value("SELECT count(*) FROM appointments WHERE consultation_id IS NULL"), "1");
}

TEST(PulledTables, ACloudWithoutALateColumnIsReadWithoutIt) {
    const PulledTable* appointments = nullptr;
    for (const auto& t : pulled_tables())
        if (t.table == "appointments") appointments = &t;
    ASSERT_NE(appointments, nullptr);
    EXPECT_NE(appointments->select.find(",consultation_id,"), std::string::npos) << appointments->select;
    const std::string without = appointments->select_without({"consultation_id"});
    EXPECT_EQ(without.find("consultation_id"), std::string::npos) << without;
    EXPECT_EQ(without.rfind("id,clinic_id,", 0), 0u) << without;
    EXPECT_EQ(without.size() + std::string(",consultation_id").size(), appointments->select.size());

    // PostgreSQL's words for it, plain or quoted; another error or another column is not one.
    const auto* late = appointments->missing_late_column("42703", "column appointments.consultation_id does not exist");
    ASSERT_NE(late, nullptr);
    EXPECT_EQ(late->first, "consultation_id");
    EXPECT_EQ(late->second, "0009_appointment_consultation.sql");
    late = appointments->missing_late_column("42703", "column \"consultation_id\" does not exist");
    ASSERT_NE(late, nullptr);
    EXPECT_EQ(late->first, "consultation_id");
    EXPECT_EQ(appointments->missing_late_column("42703", "column appointments.reason does not exist"), nullptr);
    EXPECT_EQ(appointments->missing_late_column("PGRST100", "column appointments.consultation_id does not exist"),
              nullptr);
}

}  // namespace
}  // namespace consult::cloud
