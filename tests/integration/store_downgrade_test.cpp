// A rolled-back update across a migration (issue: fleet updates, test 5), with the real
// consultd: a "next release" (CONSULT_TEST_NEXT_SCHEMA=1 adds a migration) takes a copy
// of the store and migrates it, acknowledges bookings and sessions, and then the older
// version starts again on the same state: the store opens, and everything the newer one
// acknowledged is there, without a second confirmation queued for any booking.
#include "api_fixture.hpp"

namespace consult::test::api {
namespace {

TEST(StoreDowngradeIt, BackOnTheOlderVersionTheStoreOpensAndNothingTheNewerAcknowledgedIsLost) {
    ApiDaemon api;
    api.start();
    const Session before = api.scheduled_session();
    const int schema = std::stoi(api.query_column("PRAGMA user_version").at(0));

    api.proc().set_env({{"CONSULT_TEST_NEXT_SCHEMA", "1"}});
    api.restart();
    ASSERT_EQ(api.query_column("PRAGMA user_version").at(0), std::to_string(schema + 1));
    const fs::path copy = api.proc().state_dir() / "db-snapshots" / ("schema-" + std::to_string(schema) + ".sqlite");
    EXPECT_TRUE(fs::exists(copy)) << api.proc().stderr_text();
    EXPECT_NE(api.proc().stderr_text().find("kept a copy of the store before migrating it"), std::string::npos);

    // Acknowledged while the newer version ran: a patient waiting, a call ended with notes.
    const Session during = api.waiting_session();
    ASSERT_EQ(api.call("POST", kSessions + "/" + before.id + "/join", before.patient_token).status, 200);
    ASSERT_EQ(api.call("POST", kSessions + "/" + before.id + "/admit", api.doctor_b).status, 200);
    ASSERT_EQ(api.call("POST", kSessions + "/" + before.id + "/end", api.doctor_b).status, 200);
    const std::string notes = "Written while the newer version ran.";
    ASSERT_EQ(api.call("PUT", kSessions + "/" + before.id + "/notes", api.doctor_b, {{"notes", notes}}).status, 200);
    const std::string before_status = api.session_status(before.id);
    ASSERT_EQ(api.session_status(during.id), "waiting");
    const int changes = std::stoi(api.query_column("SELECT count(*) FROM appointment_changes").at(0));
    const int outbox = std::stoi(api.query_column("SELECT count(*) FROM outbox").at(0));

    api.proc().set_env({});
    api.restart();
    EXPECT_EQ(api.query_column("PRAGMA user_version").at(0), std::to_string(schema));
    EXPECT_NE(api.proc().stderr_text().find("the store came back from a newer version"), std::string::npos)
        << api.proc().stderr_text();
    const auto health = api.call("GET", "/healthz", "");
    EXPECT_EQ(health.body.value("db", ""), "ok") << health.text();

    EXPECT_EQ(api.session_status(before.id), before_status);
    EXPECT_EQ(api.query_column("SELECT notes FROM video_consultation_sessions WHERE id = '" + before.id + "'").at(0),
              notes);
    EXPECT_EQ(api.session_status(during.id), "waiting");
    EXPECT_EQ(api.query_column("SELECT consultation_type FROM appointments WHERE id = '" + during.appointment_id + "'"),
              std::vector<std::string>{"video"});
    // The patient who joined under the newer version is admitted by the older one.
    auto admitted = api.call("POST", kSessions + "/" + during.id + "/admit", api.doctor_b);
    EXPECT_EQ(admitted.status, 200) << admitted.text();
    // No booking queued again for its confirmation; no row of the outbox dropped (this box
    // has no cloud: nothing was pushed meanwhile).
    EXPECT_LE(std::stoi(api.query_column("SELECT count(*) FROM appointment_changes").at(0)), changes);
    EXPECT_GE(std::stoi(api.query_column("SELECT count(*) FROM outbox").at(0)), outbox);

    // The newer store is kept whole beside the state, its own column included.
    bool kept = false;
    for (const auto& e : fs::directory_iterator(api.proc().state_dir()))
        kept |= e.path().filename().string().starts_with("consult.db.schema-" + std::to_string(schema + 1) + "-");
    EXPECT_TRUE(kept);
}

}  // namespace
}  // namespace consult::test::api
