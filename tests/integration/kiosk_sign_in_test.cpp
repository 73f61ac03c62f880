// Kiosk sign-in over real HTTP against consultd --demo: the doctor list, PIN sign-in
// for doctors and the admin, wrong PINs, the lockout, the audit rows, no PIN in the
// logs, token renewal, consultctl set-pin, the day view and notes after the call.
#include "api_fixture.hpp"

namespace consult::test::api {
namespace {

const std::string kKiosk = "/api/kiosk";

class KioskSignIn : public ApiTest {
protected:
    Reply sign_in(const std::string& doctor, const std::string& pin) {
        return api.call("POST", kKiosk + "/sign-in", "", {{"doctor_id", doctor}, {"pin", pin}});
    }
    std::vector<std::vector<std::string>> audit_rows() {
        return api.query_rows("SELECT actor, role, action, client_address, detail FROM audit_log "
                              "WHERE action = 'kiosk.sign_in' ORDER BY id");
    }
};

TEST_F(KioskSignIn, TheDoctorListNeedsNoTokenOnTheBoxAndSaysWhoHasAPin) {
    auto r = api.call("GET", kKiosk + "/doctors", "");
    ASSERT_EQ(r.status, 200) << r.text();
    ASSERT_EQ(r.body["doctors"].size(), 2u);
    for (const auto& d : r.body["doctors"]) EXPECT_TRUE(d["has_pin"].get<bool>()) << d;
    EXPECT_TRUE(r.body["admin_pin_set"].get<bool>());
    EXPECT_EQ(r.body["idle_seconds"], 300);
}

TEST_F(KioskSignIn, TheRightPinGivesAShortLivedDoctorTokenThatWorksAndRenews) {
    auto r = sign_in(kDoctorB, "5678");
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["role"], "doctor");
    EXPECT_EQ(r.body["ttl_seconds"], 900);
    const std::string token = r.body["token"];
    auto claims = api.verifier().check(token, tokens::unix_now());
    ASSERT_TRUE(claims.has_value());
    EXPECT_EQ(claims->identity, kDoctorB);
    auto day = api.call("GET", kKiosk + "/day?date=" + local_day(), token);
    ASSERT_EQ(day.status, 200) << day.text();
    EXPECT_EQ(day.body["appointments"].size(), 16u) << "the demo books doctor B every 30 minutes 09:00-17:00";
    EXPECT_FALSE(day.body["appointments"][0]["patient"]["name"].get<std::string>().empty());
    auto renewed = api.call("POST", kKiosk + "/renew", token);
    ASSERT_EQ(renewed.status, 200) << renewed.text();
    EXPECT_NE(renewed.body["token"], token);
    // Doctor A's day is not doctor B's to see.
    EXPECT_EQ(api.call("GET", kKiosk + "/day?doctor_id=" + std::string(kDoctorA), token).status, 403);
}

TEST_F(KioskSignIn, SigningOutEndsTheTokenAtOnceAndAfterARestart) {
    auto r = sign_in(kDoctorB, "5678");
    ASSERT_EQ(r.status, 200) << r.text();
    const std::string token = r.body["token"];
    ASSERT_EQ(api.call("GET", kKiosk + "/day?date=" + local_day(), token).status, 200);
    ASSERT_EQ(api.call("POST", kKiosk + "/sign-out", token).status, 204);
    auto after = api.call("GET", kKiosk + "/day?date=" + local_day(), token);
    EXPECT_TRUE(is_error(after, 401, "token_revoked")) << after.text();
    EXPECT_TRUE(is_error(api.call("POST", kKiosk + "/renew", token), 401, "token_revoked"));
    api.restart();
    EXPECT_TRUE(is_error(api.call("GET", kKiosk + "/day?date=" + local_day(), token), 401, "token_revoked"));
    auto again = sign_in(kDoctorB, "5678");
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(api.call("GET", kKiosk + "/day?date=" + local_day(), again.body["token"].get<std::string>()).status, 200);
}

TEST_F(KioskSignIn, TheAdminPinGivesAnAdminToken) {
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "1234"}}).status, 401);
    auto r = api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "0000"}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["role"], "admin");
    auto timings = api.call("POST", kTimings, r.body["token"],
                            {{"doctor_id", kDoctorA}, {"day_of_week", 0}, {"start_time", "06:00"},
                             {"end_time", "07:00"}, {"slot_duration_minutes", 20}});
    EXPECT_EQ(timings.status, 201) << timings.text();
}

TEST_F(KioskSignIn, AWrongPinIsRefusedAndFiveLockTheDoctorOutEvenWithTheRightPin) {
    auto first = sign_in(kDoctorB, "0001");
    ASSERT_EQ(first.status, 401) << first.text();
    EXPECT_EQ(first.body["error"]["code"], "wrong_pin");
    EXPECT_NE(first.body["error"]["message"].get<std::string>().find("4 tries left"), std::string::npos);
    EXPECT_EQ(sign_in(kDoctorB, "12").status, 401) << "a malformed PIN is just a wrong one";
    EXPECT_EQ(sign_in(kDoctorB, "0003").status, 401);
    EXPECT_EQ(sign_in(kDoctorB, "0004").status, 401);
    auto fifth = sign_in(kDoctorB, "0005");
    EXPECT_EQ(fifth.status, 429) << fifth.text();
    auto locked = sign_in(kDoctorB, "5678");
    ASSERT_EQ(locked.status, 429) << locked.text();
    EXPECT_EQ(locked.body["error"]["code"], "locked_out");
    EXPECT_TRUE(locked.raw.header("retry-after").has_value());
    // The other doctor on the same kiosk is not locked out.
    EXPECT_EQ(sign_in(kDoctorA, "1234").status, 200);

    auto rows = audit_rows();
    ASSERT_EQ(rows.size(), 7u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(rows[i][0], kDoctorB);
        EXPECT_EQ(rows[i][1], "doctor");
        EXPECT_EQ(rows[i][3], "127.0.0.1");
    }
    EXPECT_NE(rows[0][4].find("\"wrong_pin\""), std::string::npos) << rows[0][4];
    EXPECT_NE(rows[4][4].find("wrong_pin_locked"), std::string::npos) << rows[4][4];
    EXPECT_NE(rows[5][4].find("\"locked\""), std::string::npos) << rows[5][4];
    EXPECT_NE(rows[6][4].find("\"ok\""), std::string::npos) << rows[6][4];
    // The detail's words hold no PIN; its one number is the KDF's time (whose digits may
    // happen to spell one, so numbers are not searched).
    for (const auto& row : rows) {
        const auto detail = nlohmann::json::parse(row[4], nullptr, false);
        ASSERT_TRUE(detail.is_object()) << row[4];
        for (const auto& [key, value] : detail.items()) {
            if (key == "kdf_ms") {
                EXPECT_TRUE(value.is_number()) << row[4];
                continue;
            }
            ASSERT_TRUE(value.is_string()) << row[4];
            for (const char* pin : {"0001", "0003", "0004", "0005", "5678", "1234"})
                EXPECT_EQ(value.get<std::string>().find(pin), std::string::npos) << "a PIN in the audit detail: " << row[4];
        }
    }
    const std::string log = api.proc().stderr_text();
    for (const char* pin : {"0001", "0005", "5678", "1234"})
        EXPECT_EQ(log.find(std::string("\"") + pin), std::string::npos) << "a PIN in the log";
    EXPECT_EQ(log.find("\"pin\""), std::string::npos);
}

TEST_F(KioskSignIn, BadRequestsAreRefusedWithTheUsualErrors) {
    EXPECT_TRUE(is_error(api.call("POST", kKiosk + "/sign-in", "", {{"pin", "1234"}}), 400, "missing_field"));
    EXPECT_TRUE(is_error(sign_in(kUnknownId, "1234"), 422, "doctor_not_found"));
    EXPECT_TRUE(is_error(api.call("POST", kKiosk + "/renew", ""), 401, "unauthenticated"));
    EXPECT_TRUE(is_error(api.call("GET", kKiosk + "/day", api.token("patient", api.patients[0], kUnknownId)), 403,
                         "forbidden"));
}

TEST_F(KioskSignIn, ConsultctlSetPinReplacesADoctorsPinFromStdin) {
    const std::string ctl = consultctl_bin() + " --config " + (api.proc().temp_dir() / "ctl.conf").string() +
                            " --state-dir " + api.proc().state_dir().string();
    auto r = run_command({"/bin/sh", "-c", "echo 24680 | " + ctl + " set-pin --doctor " + kDoctorA}, 30s);
    ASSERT_EQ(r.code(), 0) << r.err;
    EXPECT_EQ(r.out.find("24680"), std::string::npos);
    EXPECT_EQ(sign_in(kDoctorA, "1234").status, 401);
    EXPECT_EQ(sign_in(kDoctorA, "24680").status, 200);
    EXPECT_NE(run_command({"/bin/sh", "-c", "echo 12ab | " + ctl + " set-pin --admin"}, 30s).code(), 0);
    EXPECT_EQ(run_command({"/bin/sh", "-c", "echo 1 | " + ctl + " set-pin"}, 30s).code(), 64);
    auto stored = api.query_column("SELECT hash FROM kiosk_pins WHERE subject = '" + std::string(kDoctorA) + "'");
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].rfind("scrypt$", 0), 0u);
}

TEST_F(KioskSignIn, NotesAreSavedOnACompletedSessionAndQueuedForTheCloud) {
    Session s = api.in_progress_session();
    const std::string notes = kSessions + "/" + s.id + "/notes";
    EXPECT_TRUE(is_error(api.call("PUT", notes, api.doctor_b, {{"notes", "too early"}}), 409, "invalid_transition"));
    ASSERT_EQ(api.call("POST", kSessions + "/" + s.id + "/end", api.doctor_b).status, 200);
    EXPECT_EQ(api.call("PUT", notes, api.doctor_a, {{"notes", "not mine"}}).status, 403);
    auto r = api.call("PUT", notes, api.doctor_b, {{"notes", "Reviewed X-ray; follow up in 2 weeks."}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["notes"], "Reviewed X-ray; follow up in 2 weeks.");
    EXPECT_EQ(api.call("GET", kSessions + "/" + s.id, api.admin).body["notes"], "Reviewed X-ray; follow up in 2 weeks.");
    auto queued = api.query_column("SELECT payload FROM outbox WHERE row_id = '" + s.id + "' ORDER BY seq DESC LIMIT 1");
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_NE(queued[0].find("follow up in 2 weeks"), std::string::npos);
}

}  // namespace
}  // namespace consult::test::api
