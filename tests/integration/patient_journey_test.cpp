// The patient's journey through consultd with the Twilio and SMTP stand-ins: a booking
// gets its confirmation at once, a move one update, a cancellation one cancellation
// (through the daemon's own clock), in-person nothing; the admin sets how a patient
// hears from the clinic, and the next message follows it.
#include "twilio_fixture.hpp"

namespace consult::test::twilio {
namespace {

using api::kAppointments;
using api::kSessions;

class JourneyTest : public MessagingTest {
protected:
    std::string patient_of(const json& appt) const { return appt["patient_id"]; }
    std::vector<std::string> bodies(const std::string& patient) const {
        std::vector<std::string> out;
        for (const auto& m : messages_to(phone_of(patient))) out.push_back(m["body"]);
        return out;
    }
    std::string notifications(const std::string& patient) const { return "/api/patients/" + patient + "/notifications"; }
};

TEST_F(JourneyTest, ABookingIsConfirmedAMoveUpdatedACancellationToldEachOnce) {
    const json appt = api_.book();
    ASSERT_TRUE(appt["video_session"].is_object()) << appt.dump();
    const std::string session = appt["video_session"]["session_id"];
    EXPECT_EQ(appt["video_session"]["confirmation"]["channel"], "sms") << appt.dump();
    const std::string patient = patient_of(appt);
    ASSERT_TRUE(eventually([&] { return bodies(patient).size() == 1; }));
    EXPECT_NE(bodies(patient)[0].find("/j/" + code_of(session)), std::string::npos) << bodies(patient)[0];

    // The clinic moves it (as the cloud pull or a receptionist's tool writes it): one update.
    const std::string later = api::iso_utc(std::time(nullptr) + 9 * 86400);
    exec_sql(api_.db_path(), "UPDATE appointments SET starts_at = '" + later + "' WHERE id = '" +
                                 appt["id"].get<std::string>() + "'");
    ASSERT_TRUE(eventually([&] { return bodies(patient).size() == 2; }, 40s)) << api_.proc().stderr_text();
    EXPECT_NE(bodies(patient)[1].find("has moved to"), std::string::npos) << bodies(patient)[1];
    EXPECT_NE(bodies(patient)[1].find("/j/" + code_of(session)), std::string::npos) << "the same link";

    // ... then cancels it: the session goes and the patient is told, once.
    exec_sql(api_.db_path(), "UPDATE appointments SET status = 'cancelled' WHERE id = '" +
                                 appt["id"].get<std::string>() + "'");
    ASSERT_TRUE(eventually([&] { return bodies(patient).size() == 3; }, 40s));
    EXPECT_NE(bodies(patient)[2].find("is cancelled"), std::string::npos) << bodies(patient)[2];
    EXPECT_EQ(api_.session_status(session), "cancelled");
    const std::string ticks = "consult_patient_message_clock_ticks_total";
    auto passes = [&] { return metric_value(api_.call("GET", "/metrics", "").raw.body, ticks); };
    const double seen = passes();
    ASSERT_TRUE(eventually([&] { return passes() > seen; }, 40s));
    EXPECT_EQ(bodies(patient).size(), 3u);
    auto m = api_.call("GET", "/metrics", "").raw.body;
    EXPECT_GE(metric_value(m, R"(consult_appointment_changes_total{action="prepared"})"), 1) << m;
    EXPECT_GE(metric_value(m, R"(consult_patient_messages_total{channel="sms",purpose="update",outcome="accepted"})"), 1) << m;
}

TEST_F(JourneyTest, InPersonBookingsGetNoRoomAndNoMessage) {
    const std::string patient = api_.next_patient();
    auto r = api_.call("POST", kAppointments, api_.admin,
                       api_.appointment_body(api_.next_free_slot(), patient, "in-person"));
    ASSERT_EQ(r.status, 201) << r.text();
    EXPECT_TRUE(r.body["video_session"].is_null());
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(bodies(patient).empty());
    EXPECT_EQ(api_.query_column("SELECT count(*) FROM video_consultation_sessions WHERE appointment_id = '" +
                                r.body["id"].get<std::string>() + "'"), std::vector<std::string>{"0"});
}

TEST_F(JourneyTest, TheAdminSetsHowAPatientHearsAndTheNextMessageFollowsIt) {
    const std::string patient = api_.next_patient();
    set_email(patient, "patient.four@example.org");
    auto got = api_.call("GET", notifications(patient), api_.admin);
    ASSERT_EQ(got.status, 200) << got.text();
    EXPECT_TRUE(got.body["notify_via"].is_null()) << "the clinic's default";
    EXPECT_EQ(got.body["editable"], true);
    // Hostile or wrong requests first.
    EXPECT_EQ(api_.call("PUT", notifications(patient), api_.doctor_b, {{"notify_via", "email"}}).status, 403);
    EXPECT_EQ(api_.call("PUT", notifications(patient), "", {{"notify_via", "email"}}).status, 401);
    EXPECT_TRUE(api::is_error(api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", "pigeon"}}), 422,
                              "invalid_enum", "notify_via"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", 3}}), 400,
                              "invalid_type", "notify_via"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", notifications(patient), api_.admin, json::object()), 400, "missing_field"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", notifications(api::kUnknownId), api_.admin, {{"notify_via", "sms"}}),
                              404, "patient_not_found"));
    EXPECT_TRUE(api::is_error(api_.call("PUT", "/api/patients/not-a-uuid/notifications", api_.admin,
                                        {{"notify_via", "sms"}}), 400, "invalid_uuid"));

    auto set = api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", "email"}});
    ASSERT_EQ(set.status, 200) << set.text();
    EXPECT_EQ(set.body["notify_via"], "email");
    const json appt = api_.book(patient);
    EXPECT_EQ(appt["video_session"]["confirmation"]["channel"], "email") << appt.dump();
    ASSERT_TRUE(eventually([&] { return emails().size() == 1; }));
    EXPECT_NE(emails()[0].find("To: patient.four@example.org\r\n"), std::string::npos);
    EXPECT_TRUE(bodies(patient).empty()) << "no SMS for a patient who chose email";

    ASSERT_EQ(api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", "none"}}).status, 200);
    const json quiet = api_.book(patient);
    EXPECT_EQ(quiet["video_session"]["confirmation"]["channel"], "none") << quiet.dump();
    // Start shows the link to give by hand.
    auto start = api_.call("POST", kSessions, api_.doctor_b, {{"appointment_id", quiet["id"]}, {"duration_minutes", 30}});
    ASSERT_EQ(start.status, 200) << start.text();
    EXPECT_EQ(start.body["invite"]["channel"], "none");
    EXPECT_NE(start.body["invite"]["short_link"].get<std::string>().find("/j/"), std::string::npos) << start.text();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(emails().size(), 1u);
    EXPECT_TRUE(bodies(patient).empty());
    ASSERT_EQ(api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", nullptr}}).status, 200);
    EXPECT_TRUE(api_.call("GET", notifications(patient), api_.admin).body["notify_via"].is_null());
    EXPECT_EQ(api_.query_column("SELECT count(*) FROM audit_log WHERE action = 'patient.notifications_set'"),
              std::vector<std::string>{"3"});
}

// The admin's list for the kiosk's "How patients hear from the clinic": names found by a
// part of them (wildcards are plain text), each patient's choice and whether SMS or email
// can reach them, never the number or the address; bad queries refused by name.
TEST_F(JourneyTest, TheAdminFindsPatientsByNameWithTheirChoiceButNotTheirNumbers) {
    const std::string patient = api_.next_patient();
    const std::string name = api_.query_column("SELECT full_name FROM patients WHERE id = '" + patient + "'").at(0);
    ASSERT_EQ(api_.call("PUT", notifications(patient), api_.admin, {{"notify_via", "both"}}).status, 200);
    const std::string part = name.substr(1, 4);   // any case, any part of the name
    std::string upper = part;
    for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    std::string query;
    for (char ch : upper) query += ch == ' ' ? std::string("%20") : std::string(1, ch);
    auto found = api_.call("GET", "/api/patients?q=" + query, api_.admin);
    ASSERT_EQ(found.status, 200) << found.text();
    EXPECT_EQ(found.body["editable"], true);
    EXPECT_EQ(found.body["default"], "sms");
    const json* row = nullptr;
    for (const auto& p : found.body["patients"]) {
        EXPECT_NE(p["name"].get<std::string>().find(part), std::string::npos) << p.dump();
        if (p["id"] == patient) row = &p;
    }
    ASSERT_NE(row, nullptr) << found.text();
    EXPECT_EQ((*row)["notify_via"], "both");
    EXPECT_EQ((*row)["reachable"]["sms"], true);
    EXPECT_EQ(found.raw.body.find("\"+"), std::string::npos) << "no phone numbers";
    EXPECT_EQ(found.raw.body.find("@"), std::string::npos) << "no email addresses";

    auto all = api_.call("GET", "/api/patients?limit=3", api_.admin);
    ASSERT_EQ(all.status, 200) << all.text();
    EXPECT_EQ(all.body["patients"].size(), 3u);
    EXPECT_TRUE(api_.call("GET", "/api/patients?q=%25", api_.admin).body["patients"].empty()) << "% is a character";
    EXPECT_TRUE(api_.call("GET", "/api/patients?q=_", api_.admin).body["patients"].empty()) << "_ is a character";

    EXPECT_EQ(api_.call("GET", "/api/patients", api_.doctor_b).status, 403);
    EXPECT_EQ(api_.call("GET", "/api/patients", "").status, 401);
    for (const char* bad : {"limit=0", "limit=51", "limit=abc", "limit=1e3", "limit=-1", "limit=99999999999"})
        EXPECT_TRUE(api::is_error(api_.call("GET", std::string("/api/patients?") + bad, api_.admin), 400, "invalid_value",
                                  "limit")) << bad;
    EXPECT_TRUE(api::is_error(api_.call("GET", "/api/patients?q=" + std::string(101, 'a'), api_.admin), 400,
                              "invalid_value", "q"));
    EXPECT_TRUE(api::is_error(api_.call("GET", "/api/patients?q=%FF%FE", api_.admin), 400, "invalid_value", "q"));
    EXPECT_GE(std::stoi(api_.query_column("SELECT count(*) FROM audit_log WHERE action = 'patient.search'").at(0)), 2);
}

}  // namespace
}  // namespace consult::test::twilio
