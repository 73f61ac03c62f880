// Cloud sync in the clinic system's own tables and columns (tests/cloud/seed_schema.sql):
// doctors from profiles, timings with clinic_id and duration_minutes, against the PostgREST
// stand-in (sessions and participants: cloud_sync_test.cpp).
#include "cloud_fixture.hpp"

namespace consult::test::cloud {
namespace {

constexpr const char* kTiming = "71a10000-0000-4000-8000-000000000001";
const std::string kTimings = "/api/video-consultations/timings";

TEST_F(CloudFixture, DoctorsAndTimingsComeFromTheClinicSystemsProfilesAndTimings) {
    seed(1);
    // As the clinic system writes a timing: its own names, `timestamp` columns without a zone.
    cloud.control("seed", {{"video_consultation_timings",
                            {{{"id", kTiming}, {"clinic_id", kClinic}, {"doctor_id", kDoctor}, {"day_of_week", 1},
                              {"start_time", "09:00:00"}, {"end_time", "12:00:00"}, {"duration_minutes", 20},
                              {"is_active", true}}}}});
    pair_files(cloud.token(kClinic));
    start_daemon();
    ASSERT_TRUE(wait_for([&] { return status()["last_pull_at"].is_string(); }, 60s)) << status().dump();
    EXPECT_EQ(local_value("SELECT group_concat(full_name) FROM doctors"), "Dr North");   // not the receptionist
    EXPECT_EQ(local_value("SELECT slot_duration_minutes || ' ' || start_time FROM video_consultation_timings"), "20 09:00");

    // A timing made on the box goes up in the seed's columns.
    const std::string admin = token("admin", "it-desk-admin");
    auto made = daemon->http("POST", kTimings,
                             json{{"doctor_id", kDoctor}, {"day_of_week", 3}, {"start_time", "14:00"},
                                  {"end_time", "16:00"}, {"slot_duration_minutes", 15}}.dump(),
                             {"Authorization: Bearer " + admin, "Content-Type: application/json"}, 10000);
    ASSERT_EQ(made.status, 201) << made.body;
    const std::string id = json::parse(made.body).value("id", "");
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 30s)) << status().dump();
    json up;
    for (const auto& r : cloud.rows("video_consultation_timings"))
        if (r["id"] == id) up = r;
    ASSERT_TRUE(up.is_object()) << cloud.rows("video_consultation_timings").dump();
    EXPECT_EQ(up["clinic_id"], kClinic);
    EXPECT_EQ(up["duration_minutes"], 15);
    EXPECT_EQ(up["start_time"], "14:00:00");
    EXPECT_EQ(status()["parked_rows"], 0);

    // A doctor the clinic system no longer lists as one is no longer bookable on the box.
    cloud.control("update", {{"table", "profiles"}, {"id", kDoctor}, {"set", {{"role", "manager"}}}});
    sync_now();
    ASSERT_TRUE(wait_for([&] { return local_value("SELECT is_active FROM doctors") == "0"; }, 30s)) << status().dump();
}

// The seed's video_consultation_sessions.consultation_id: the clinic system names the
// consultation on the appointment (cloud/migrations/0009) and the box sends it up with the
// appointment's session. A cloud that has not had 0009 yet still gives its appointments.
TEST_F(CloudFixture, TheAppointmentsConsultationGoesUpWithItsSessionAndACloudWithoutItStillSyncs) {
    constexpr const char* kConsultation = "c0c0c0c0-0000-4000-8000-000000000001";
    seed(2);
    cloud.control("column", {{"table", "appointments"}, {"column", "consultation_id"}, {"type", nullptr}});
    pair_files(cloud.token(kClinic));
    start_daemon();
    ASSERT_TRUE(wait_for([&] { return status()["last_pull_at"].is_string(); }, 60s)) << status().dump();
    EXPECT_EQ(local_value("SELECT count(*) FROM appointments"), "2");
    EXPECT_TRUE(status()["last_error"].is_null()) << status().dump();
    const std::string doctor = token("doctor", kDoctor);
    const std::string session = create_session(0, doctor).first;
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 30s)) << status().dump();
    const auto cloud_session = [&] {
        for (const auto& r : cloud.rows("video_consultation_sessions"))
            if (r["id"] == session) return r;
        return json();
    };
    ASSERT_TRUE(cloud_session().is_object());
    EXPECT_TRUE(cloud_session().value("consultation_id", json()).is_null()) << cloud_session().dump();
    const std::string log = daemon->stderr_text();
    const std::string said = "has no appointments.consultation_id";
    ASSERT_NE(log.find(said), std::string::npos) << log;
    EXPECT_NE(log.find("0009_appointment_consultation.sql"), std::string::npos) << log;
    EXPECT_EQ(log.find(said, log.find(said) + 1), std::string::npos) << "said once, not every run:\n" << log;

    // The clinic applies 0009 and links the appointment: the session goes up again, with it.
    cloud.control("column", {{"table", "appointments"}, {"column", "consultation_id"}, {"type", "uuid"}});
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(0)},
                             {"set", {{"consultation_id", kConsultation}}}});
    sync_now();
    ASSERT_TRUE(wait_for([&] { return cloud_session().value("consultation_id", json()) == kConsultation; }, 30s))
        << cloud_session().dump() << status().dump();
    EXPECT_EQ(local_value("SELECT consultation_id FROM appointments WHERE id = '" + appointment_id(0) + "'"), kConsultation);
    auto r = daemon->http("GET", kSessions + "/" + session, "", {"Authorization: Bearer " + doctor}, 5000);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).value("consultation_id", json()), kConsultation) << r.body;
    EXPECT_EQ(status()["parked_rows"], 0);
}

}  // namespace
}  // namespace consult::test::cloud
