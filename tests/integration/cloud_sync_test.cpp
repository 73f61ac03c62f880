// Cloud sync against the PostgREST stand-in: pull, push, crash safety, offline days,
// re-pairing, parking and a main loop that keeps answering while the cloud hangs.
#include "cloud_fixture.hpp"
#include "cloud_recording.hpp"

#include <algorithm>
#include <map>

namespace consult::test::cloud {
namespace {

TEST_F(CloudFixture, PullsIncrementallyAcrossPagesWithUpdatesCancellationsAndDeletions) {
    start_paired(1203);   // three pages of 500
    EXPECT_EQ(local_value("SELECT count(*) FROM appointments"), "1203");
    EXPECT_EQ(local_value("SELECT count(*) FROM doctors"), "1");   // never the other clinic's
    EXPECT_EQ(cloud.stats()["served"]["appointments"], 1203);

    const std::string doctor = token("doctor", kDoctor);
    auto [session, patient] = create_session(5, doctor);

    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(1)}, {"set", {{"status", "confirmed"}}}});
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(5)}, {"set", {{"status", "cancelled"}}}});
    cloud.control("delete", {{"table", "appointments"}, {"id", appointment_id(2)}});
    sync_now();
    ASSERT_TRUE(wait_for([&] { return local_value("SELECT status FROM video_consultation_sessions") == "cancelled" &&
                                      local_value("SELECT count(*) FROM appointments") == "1202"; }, 30s))
        << status().dump();
    // Only what changed came down the second time.
    EXPECT_EQ(cloud.stats()["served"]["appointments"], 1205);
    EXPECT_EQ(local_value("SELECT status FROM appointments WHERE id = '" + appointment_id(1) + "'"), "confirmed");
    EXPECT_EQ(local_value("SELECT status FROM appointments WHERE id = '" + appointment_id(5) + "'"), "cancelled");
    EXPECT_EQ(local_value("SELECT end_reason FROM video_consultation_sessions"), "appointment cancelled in the clinic system");
    // ... and the cancellation goes back up.
    ASSERT_TRUE(wait_for([&] {
        auto rows = cloud.rows("video_consultation_sessions");
        return rows.size() == 1 && rows[0]["status"] == "cancelled";
    }, 30s)) << status().dump();
}

// The patient's journey from the clinic system's side: a pulled video appointment gets
// its session (pushed back up), a move keeps it, a cancellation cancels it.
TEST_F(CloudFixture, PulledVideoAppointmentsArePreparedMovedAndCancelled) {
    seed(3);
    // How each patient hears is the clinic system's choice (cloud/migrations/0004); a value
    // the appliance does not know is the clinic's default, and the patient row still comes.
    cloud.control("update", {{"table", "patients"}, {"id", patient_id(0)}, {"set", {{"notify_via", "email"}}}});
    cloud.control("update", {{"table", "patients"}, {"id", patient_id(1)}, {"set", {{"notify_via", "pigeon"}}}});
    pair_files(cloud.token(kClinic));
    extra_args = {"--set", "notify.prepare_at_booking=true"};   // after the fixture's own false: the last one wins
    start_daemon();
    ASSERT_TRUE(wait_for([&] { return local_value("SELECT count(*) FROM video_consultation_sessions") == "3"; }, 60s))
        << status().dump();
    EXPECT_EQ(local_value("SELECT count(*) FROM short_links"), "3");
    EXPECT_EQ(local_value("SELECT notify_via FROM patients WHERE id = '" + patient_id(0) + "'"), "email");
    EXPECT_EQ(local_value("SELECT coalesce(notify_via, 'default') FROM patients WHERE id = '" + patient_id(1) + "'"),
              "default");
    // Here the clinic system decides: the box does not edit it.
    auto put = daemon->http("PUT", "/api/patients/" + patient_id(0) + "/notifications",
                            R"({"notify_via": "none"})", {"Content-Type: application/json", "Authorization: Bearer " +
                                                           token("admin", "it-desk-admin")}, 5000);
    EXPECT_EQ(put.status, 409) << put.body;
    EXPECT_NE(put.body.find("managed_by_cloud"), std::string::npos) << put.body;
    ASSERT_TRUE(wait_for([&] { return cloud.rows("video_consultation_sessions").size() == 3; }, 30s)) << status().dump();
    const std::string moved = local_value("SELECT id FROM video_consultation_sessions WHERE appointment_id = '" +
                                          appointment_id(0) + "'");
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(0)},
                             {"set", {{"starts_at", "2030-01-07T10:00:00+00:00"}}}});
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(1)}, {"set", {{"status", "cancelled"}}}});
    sync_now();
    ASSERT_TRUE(wait_for([&] {
        return local_value("SELECT status FROM video_consultation_sessions WHERE appointment_id = '" + appointment_id(1) +
                           "'") == "cancelled" &&
               local_value("SELECT count(*) FROM appointment_changes") == "0";
    }, 60s)) << status().dump();
    EXPECT_EQ(local_value("SELECT id || ' ' || status FROM video_consultation_sessions WHERE appointment_id = '" +
                          appointment_id(0) + "'"), moved + " scheduled") << "a move keeps the room and the link";
    EXPECT_EQ(local_value("SELECT count(*) FROM video_consultation_sessions"), "3");
}

// A patient's rating reaches the clinic's cloud (consult_session_ratings, 0008) under the
// session's clinic, once.
TEST_F(CloudFixture, APatientsRatingIsPushedToTheClinicsCloud) {
    start_paired(3);
    const std::string doctor = token("doctor", kDoctor);
    auto [session, patient] = create_session(0, doctor);
    ASSERT_EQ(post(kSessions + "/" + session + "/join", patient), 200);
    ASSERT_EQ(post(kSessions + "/" + session + "/admit", doctor), 200);
    ASSERT_EQ(post(kSessions + "/" + session + "/end", doctor), 200);
    auto r = daemon->http("POST", kSessions + "/" + session + "/rating",
                          json{{"score", 5}, {"comment", "Clear picture, thank you"}}.dump(),
                          {"Authorization: Bearer " + patient, "Content-Type: application/json"}, 10000);
    ASSERT_EQ(r.status, 201) << r.body;
    sync_now();
    ASSERT_TRUE(wait_for([&] { return cloud.rows("consult_session_ratings").size() == 1; }, 30s)) << status().dump();
    const auto rating = cloud.rows("consult_session_ratings")[0];
    EXPECT_EQ(rating["id"], session);
    EXPECT_EQ(rating["clinic_id"], kClinic);
    EXPECT_EQ(rating["patient_id"], patient_id(0));
    EXPECT_EQ(rating["score"], 5);
    EXPECT_EQ(rating["comment"], "Clear picture, thank you");
    EXPECT_TRUE(rating["rated_at"].is_string());
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 30s)) << status().dump();
}

TEST_F(CloudFixture, PushesSessionsAndParticipantsAsUpserts) {
    start_paired(3);
    auto [session, patient] = create_session(0, token("doctor", kDoctor));
    ASSERT_EQ(post(kSessions + "/" + session + "/join", patient), 200);
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 30s)) << status().dump();
    auto sessions = cloud.rows("video_consultation_sessions");
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0]["id"], session);
    EXPECT_EQ(sessions[0]["status"], "waiting");
    EXPECT_EQ(sessions[0]["appointment_id"], appointment_id(0));
    // The seed's columns: its SIDs, its user_id (a uuid); no token ever leaves the box.
    EXPECT_EQ(sessions[0]["twilio_room_sid"], local_value("SELECT twilio_room_sid FROM video_consultation_sessions"));
    EXPECT_TRUE(sessions[0]["doctor_token"].is_null() && sessions[0]["patient_token"].is_null());
    auto participants = cloud.rows("video_consultation_participants");
    ASSERT_EQ(participants.size(), 1u);
    EXPECT_EQ(participants[0]["session_id"], session);
    EXPECT_EQ(participants[0]["user_type"], "patient");
    EXPECT_EQ(participants[0]["user_id"], patient_id(0));
    EXPECT_EQ(participants[0]["participant_sid"], local_value("SELECT participant_sid FROM video_consultation_participants"));
    EXPECT_FALSE(participants[0].contains("updated_at"));   // the seed's participants have none
    EXPECT_TRUE(status()["last_push_at"].is_string());
}

TEST_F(CloudFixture, OutboxSurvivesKill9MidPushWithNothingLostOrDuplicated) {
    start_paired(60);
    const std::string doctor = token("doctor", kDoctor);
    // The cloud stores what it gets but its answer never arrives: consultd dies waiting.
    cloud.fault("hang_after", -1, {{"methods", {"POST"}}});
    std::vector<std::string> ids;
    for (int i = 0; i < 60; ++i) ids.push_back(create_session(i, doctor).first);
    for (int i = 0; i < 60; i += 2) ASSERT_EQ(post(kSessions + "/" + ids[size_t(i)] + "/cancel", doctor), 200);
    sync_now();
    ASSERT_TRUE(wait_for([&] { return cloud.stats()["requests"].value("POST", 0) >= 1; }, 30s));
    std::this_thread::sleep_for(300ms);
    daemon->kill_now();
    cloud.fault("none");

    start_daemon();   // same state dir
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 60s)) << status().dump();
    auto rows = cloud.rows("video_consultation_sessions");
    std::map<std::string, std::string> cloud_status;
    for (const auto& r : rows) cloud_status[r["id"]] = r["status"];
    EXPECT_EQ(rows.size(), 60u);
    for (const auto& row : local("SELECT id, status FROM video_consultation_sessions"))
        EXPECT_EQ(cloud_status[row[0]], row[1]) << row[0];
    auto s = cloud.stats();
    std::printf("[ kill -9 ] sessions received %d times for %d rows (at least once; stored once each)\n",
                s["received"]["video_consultation_sessions"].get<int>(),
                s["received_ids"]["video_consultation_sessions"]["unique"].get<int>());
    EXPECT_GE(s["received"]["video_consultation_sessions"].get<int>(), 60);
}

TEST_F(CloudFixture, ADayOfflineWith500SessionEventsAllArriveAfterRecovery) {
    start_paired(250);
    const std::string doctor = token("doctor", kDoctor);
    cloud.fault("drop");   // every connection dropped: offline
    std::vector<std::string> ids;
    for (int i = 0; i < 250; ++i) ids.push_back(create_session(i, doctor).first);
    for (const auto& id : ids) ASSERT_EQ(post(kSessions + "/" + id + "/cancel", doctor), 200);
    EXPECT_EQ(local_value("SELECT count(*) FROM outbox"), "500");
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["state"] == "retrying"; }, 30s)) << status().dump();
    EXPECT_EQ(status()["outbox_depth"], 500);
    EXPECT_TRUE(status()["last_error"].is_string());

    cloud.fault("none");
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 120s)) << status().dump();
    auto rows = cloud.rows("video_consultation_sessions");
    EXPECT_EQ(rows.size(), 250u);
    EXPECT_TRUE(std::all_of(rows.begin(), rows.end(), [](const json& r) { return r["status"] == "cancelled"; }));
    EXPECT_EQ(status()["parked_rows"], 0);
}

TEST_F(CloudFixture, A401StopsPushingUntilTheApplianceIsPairedAgain) {
    start_paired(3);
    const std::string old_token = read_file(state_dir() / "credentials" / "cloud-device-token");
    cloud.control("revoke", {{"token", old_token}});
    create_session(0, token("doctor", kDoctor));
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["state"] == "repair_needed"; }, 30s)) << status().dump();
    EXPECT_EQ(status()["repair_needed"], true);
    EXPECT_EQ(status()["outbox_depth"], 1);
    auto st = ctl({"status"});
    EXPECT_NE(st.out.find("RE-PAIRING NEEDED"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("outbox:          1 waiting, 0 parked"), std::string::npos) << st.out;

    // Pairing with the refused token is refused; a new token pairs and the row goes up.
    write_file(dir / "key", PostgrestStandin::kApiKey);
    write_file(dir / "old", old_token);
    auto refused = ctl({"pair", "--api-key-file", (dir / "key").string(), "--device-token-file", (dir / "old").string()});
    EXPECT_EQ(refused.code(), 1) << refused.err;
    write_file(dir / "new", cloud.token(kClinic));
    auto paired = ctl({"pair", "--api-key-file", (dir / "key").string(), "--device-token-file", (dir / "new").string()});
    EXPECT_EQ(paired.code(), 0) << paired.err;
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0 && status()["state"] == "idle"; }, 30s))
        << status().dump();
    EXPECT_EQ(cloud.rows("video_consultation_sessions").size(), 1u);
}

TEST_F(CloudFixture, ARefusedRowIsParkedWithTheServersErrorAndTheRestGoUp) {
    start_paired(3);
    const std::string doctor = token("doctor", kDoctor);
    cloud.fault("500", -1, {{"methods", {"POST"}}});
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(create_session(i, doctor).first);
    cloud.control("reject", {{"table", "video_consultation_sessions"}, {"id", ids[1]}});
    cloud.fault("none");
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0 && status()["parked_rows"] == 1; }, 60s))
        << status().dump();
    EXPECT_EQ(cloud.rows("video_consultation_sessions").size(), 2u);
    EXPECT_NE(local_value("SELECT last_error FROM outbox WHERE parked = 1").find("23514"), std::string::npos);
    EXPECT_NE(status()["last_error"].get<std::string>().find(ids[1]), std::string::npos);
}

TEST_F(CloudFixture, TooManyRequestsIsRetriedAfterTheServersRetryAfter) {
    start_paired(3);
    cloud.fault("429", 1, {{"retry_after", 2}, {"methods", {"POST"}}});
    create_session(0, token("doctor", kDoctor));
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["state"] == "retrying"; }, 30s)) << status().dump();
    EXPECT_TRUE(status()["next_attempt_at"].is_string());
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 30s)) << status().dump();
    EXPECT_EQ(cloud.stats()["faults_served"]["429"], 1);
}

TEST_F(CloudFixture, TheMainLoopKeepsAnsweringWhileTheCloudHangs) {
    start_paired(3);
    cloud.fault("hang");
    create_session(0, token("doctor", kDoctor));
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["state"] == "syncing"; }, 10s)) << status().dump();
    long worst_us = 0, total_us = 0;
    const int n = 50;
    for (int i = 0; i < n; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = daemon->http("GET", "/healthz", "", {}, 5000);
        long us = long(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
        EXPECT_EQ(r.status, 200);
        EXPECT_LT(us, 2'000'000);   // generous: the point is that it answers at all
        worst_us = std::max(worst_us, us);
        total_us += us;
        std::this_thread::sleep_for(50ms);
    }
    std::printf("[ healthz while the cloud hangs ] %d requests: mean %.2f ms, worst %.2f ms\n", n,
                double(total_us) / n / 1000.0, double(worst_us) / 1000.0);
    EXPECT_EQ(status()["state"], "syncing");   // the request to the cloud is still waiting
    cloud.fault("none");
}

// A consent, a recording and an access row, made while the cloud is down, stay queued
// and all arrive once it is back: filed under the clinic, no path of the box among them,
// and the session's row carrying its recording_sid.
TEST_F(CloudRecordingFixture, ARecordingsConsentMetadataAndAccessLogWaitForTheCloudThenArrive) {
    start_paired(3);
    wait_for_media();
    cloud.fault("drop");   // offline from here
    auto rec = record_call(0, 2s, false);
    ASSERT_EQ(rec.recording_sid.size(), 34u);
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["state"] == "retrying"; }, 30s)) << status().dump();
    for (const char* table : {"recording_consents", "recordings", "recording_access"})
        EXPECT_NE(local_value(std::string("SELECT count(*) FROM outbox WHERE table_name = '") + table + "'"), "0") << table;
    EXPECT_EQ(cloud.rows("recordings").size(), 0u);

    cloud.fault("none");
    sync_now();
    ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 60s)) << status().dump();
    EXPECT_EQ(status()["parked_rows"], 0);
    auto consents = cloud.rows("recording_consents");
    ASSERT_EQ(consents.size(), 1u);
    EXPECT_EQ(consents[0]["session_id"], rec.session);
    EXPECT_EQ(consents[0]["clinic_id"], kClinic);
    EXPECT_EQ(consents[0]["answer"], "given");
    EXPECT_TRUE(consents[0]["text_version"].is_string());
    auto recordings = cloud.rows("recordings");
    ASSERT_EQ(recordings.size(), 1u);
    EXPECT_EQ(recordings[0]["recording_sid"], rec.recording_sid);
    EXPECT_EQ(recordings[0]["state"], "paused");
    EXPECT_EQ(recordings[0]["parts"], 1);
    EXPECT_GT(recordings[0]["size_bytes"].get<long>(), 1000);
    EXPECT_EQ(recordings[0].dump().find(".mkv"), std::string::npos) << "no file of the box: " << recordings[0].dump();
    auto access = cloud.rows("recording_access");
    ASSERT_GE(access.size(), 1u);
    EXPECT_EQ(access[0]["recording_id"], recordings[0]["id"]);
    EXPECT_EQ(access[0]["action"], "read");
    EXPECT_EQ(access[0]["actor_role"], "doctor");
    EXPECT_EQ(access[0]["actor_id"], kDoctor);
    auto sessions = cloud.rows("video_consultation_sessions");
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_EQ(sessions[0]["recording_sid"], rec.recording_sid);
}

TEST(CloudSyncOff, WithoutCredentialsTheSyncIsOffAndSaysWhy) {
    PostgrestStandin cloud;
    ConsultdOptions o;
    o.args = {"--set", "cloud.url=" + cloud.url(), "--set", std::string("cloud.clinic_id=") + kClinic};
    ConsultdProcess d(o);
    ASSERT_TRUE(d.start()) << d.start_error();
    ASSERT_TRUE(d.wait_for_healthz(30));
    auto r = d.http("GET", "/api/system/cloud");
    ASSERT_EQ(r.status, 200);
    auto j = json::parse(r.body);
    EXPECT_EQ(j["enabled"], false);
    EXPECT_EQ(j["state"], "off");
    EXPECT_NE(j["off_reason"].get<std::string>().find("not paired"), std::string::npos);
    EXPECT_EQ(cloud.stats()["requests"].size(), 0u);   // nothing was sent
}

}  // namespace
}  // namespace consult::test::cloud
