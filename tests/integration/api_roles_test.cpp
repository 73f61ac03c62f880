// Who may call what (the role matrix), the rate limit on token and join, the audit log
// and the session metrics, over real HTTP against a real consultd --demo.
#include "api_fixture.hpp"

#include <array>
#include <functional>
#include <sstream>

namespace consult::test::api {
namespace {

// ---- the role matrix ----

enum Who { DoctorOwn, DoctorOther, PatientOwn, Admin, NoToken };
constexpr const char* kWho[] = {"doctor-own", "doctor-other", "patient-own-session", "admin", "no token"};

struct Target {
    std::string method, path;
    json body;                  // null: no body
    std::string patient_token;  // the patient-own-session column's token
};

class ApiRoles : public ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        shared_ = api.scheduled_session();
        spare_appointment_ = api.book();
        spare_timing_ = create_timing(4);
    }

    // Every doctor_b session route acts on `shared_` unless the cell is expected to succeed:
    // then on a session of its own in the state the action needs.
    Target on_session(const std::string& method, const std::string& action, bool allowed,
                      std::function<Session()> fresh, json body = nullptr) {
        const Session s = allowed && fresh ? fresh() : shared_;
        return {method, kSessions + "/" + s.id + action, std::move(body), s.patient_token};
    }

    // A short window after doctor_b's all-day timing (which ends at 23:30).
    json create_timing(int day) {
        auto r = api.call("POST", kTimings, api.admin, timing(day));
        if (r.status != 201) setup_failed("creating a timing: " + r.text());
        return r.body;
    }
    static json timing(int day) {
        return {{"doctor_id", kDoctorB}, {"day_of_week", day}, {"start_time", "23:35"}, {"end_time", "23:55"},
                {"slot_duration_minutes", 10}};
    }

    std::string token_for(Who who, const Target& t) const {
        switch (who) {
        case DoctorOwn: return api.doctor_b;
        case DoctorOther: return api.doctor_a;
        case PatientOwn: return t.patient_token;
        case Admin: return api.admin;
        case NoToken: return "";
        }
        return "";
    }

    Session shared_;
    json spare_appointment_, spare_timing_;
};

TEST_F(ApiRoles, EachRouteAnswersEachRoleAsSpecified) {
    using Make = std::function<Target(bool allowed)>;
    auto& a = api;
    const std::string sessions_of_b = kSessions + "?doctor_id=" + kDoctorB;
    const Make create = [&](bool allowed) {
        const json appt = allowed ? a.book() : spare_appointment_;
        return Target{"POST", kSessions, {{"appointment_id", appt["id"]}, {"duration_minutes", 30}}, shared_.patient_token};
    };
    const Make list = [&](bool) { return Target{"GET", sessions_of_b, nullptr, shared_.patient_token}; };
    const Make get = [&](bool allowed) { return on_session("GET", "", allowed, nullptr); };
    const Make token = [&](bool allowed) {
        return on_session("POST", "/token", allowed, nullptr, {{"user_id", shared_.patient_id}, {"user_type", "patient"}});
    };
    const Make join = [&](bool allowed) { return on_session("POST", "/join", allowed, [&] { return a.scheduled_session(); }); };
    const Make admit = [&](bool allowed) { return on_session("POST", "/admit", allowed, [&] { return a.waiting_session(); }); };
    const Make end = [&](bool allowed) { return on_session("POST", "/end", allowed, [&] { return a.in_progress_session(); }); };
    const Make cancel = [&](bool allowed) { return on_session("POST", "/cancel", allowed, [&] { return a.scheduled_session(); }); };
    const Make recording = [&](bool allowed) { return on_session("GET", "/recording", allowed, nullptr); };
    const Make timings = [&](bool) { return Target{"GET", kTimings + "?doctor_id=" + kDoctorB, nullptr, shared_.patient_token}; };
    const Make add_timing = [&](bool) { return Target{"POST", kTimings, timing(3), shared_.patient_token}; };
    const Make put_timing = [&](bool) {
        return Target{"PUT", kTimings + "/" + spare_timing_["id"].get<std::string>(), timing(4), shared_.patient_token};
    };
    const Make delete_timing = [&](bool allowed) {
        const json t = allowed ? create_timing(5) : spare_timing_;
        return Target{"DELETE", kTimings + "/" + t["id"].get<std::string>(), nullptr, shared_.patient_token};
    };
    const Make availability = [&](bool) {
        return Target{"GET", kAvailability + "?doctor_id=" + kDoctorB + "&date=" + local_day(), nullptr, shared_.patient_token};
    };
    const Make appointments = [&](bool) { return Target{"GET", kAppointments + "?doctor_id=" + kDoctorB, nullptr, shared_.patient_token}; };
    const Make book = [&](bool) {
        return Target{"POST", kAppointments, a.appointment_body(a.next_free_slot(), a.next_patient()), shared_.patient_token};
    };

    // The specification (POST /sessions opens the session prepared at booking: 200). Every target belongs to doctor_b: "doctor-own" is doctor_b,
    // "doctor-other" is doctor_a asking for doctor_b's things, "patient-own-session" is the
    // invite token of the session the request names (or of any session, for the rest).
    // GET .../recording answers its allowed callers 404 recording_not_available.
    struct Row { const char* route; Make make; std::array<long, 5> expect; };
    const Row rows[] = {
        //  route                               target         doctor-own  doctor-other  patient  admin  none
        {"POST   /sessions",                    create,        {200,       403,          403,     200,   401}},
        {"GET    /sessions?doctor_id=",         list,          {200,       403,          403,     200,   401}},
        {"GET    /sessions/{id}",               get,           {200,       403,          403,     200,   401}},
        {"POST   /sessions/{id}/token",         token,         {200,       403,          403,     200,   401}},
        {"POST   /sessions/{id}/join",          join,          {200,       403,          200,     403,   401}},
        {"POST   /sessions/{id}/admit",         admit,         {200,       403,          403,     200,   401}},
        {"POST   /sessions/{id}/end",           end,           {200,       403,          403,     200,   401}},
        {"POST   /sessions/{id}/cancel",        cancel,        {200,       403,          403,     200,   401}},
        {"GET    /sessions/{id}/recording",     recording,     {404,       403,          403,     404,   401}},
        {"GET    /timings?doctor_id=",          timings,       {200,       403,          403,     200,   401}},
        {"POST   /timings",                     add_timing,    {403,       403,          403,     201,   401}},
        {"PUT    /timings/{id}",                put_timing,    {403,       403,          403,     200,   401}},
        {"DELETE /timings/{id}",                delete_timing, {403,       403,          403,     204,   401}},
        {"GET    /availability?doctor_id=",     availability,  {200,       403,          403,     200,   401}},
        {"GET    /appointments?doctor_id=",     appointments,  {200,       403,          403,     200,   401}},
        {"POST   /appointments",                book,          {201,       403,          403,     201,   401}},
    };

    for (const auto& row : rows) {
        for (int w = DoctorOwn; w <= NoToken; ++w) {
            const Who who = Who(w);
            const long expected = row.expect[w];
            const Target t = row.make(expected != 401 && expected != 403);
            SCOPED_TRACE(std::string(row.route) + " as " + kWho[who]);
            const Reply r = api.call(t.method, t.path, token_for(who, t), t.body);
            EXPECT_EQ(r.status, expected) << r.text();
            const char* code = expected == 401 ? "unauthenticated" : expected == 403 ? "forbidden"
                             : expected == 404 ? "recording_not_available" : nullptr;
            if (code) {
                EXPECT_TRUE(is_error(r, expected, code));
            }
        }
    }
    // The refused calls changed nothing.
    EXPECT_EQ(api.session_status(shared_.id), "scheduled");
    auto spare = api.call("GET", kTimings + "?doctor_id=" + kDoctorB, api.admin);
    bool spare_kept = false;
    for (const auto& t : spare.body["timings"]) spare_kept |= t["id"] == spare_timing_["id"];
    EXPECT_TRUE(spare_kept) << "a refused DELETE removed the timing";
    EXPECT_EQ(api.query_column("SELECT count(*) FROM video_consultation_sessions WHERE appointment_id = '" +
                               spare_appointment_["id"].get<std::string>() + "'"), std::vector<std::string>{"1"})
        << "a refused POST /sessions made a session (the one prepared at booking is all there is)";
    EXPECT_EQ(api.query_column("SELECT count(*) FROM audit_log WHERE action = 'session.open' AND session_id = '" +
                               spare_appointment_["video_session"]["session_id"].get<std::string>() + "'"),
              std::vector<std::string>{"0"}) << "a refused POST /sessions opened the prepared session";
}

TEST_F(ApiRoles, WithoutDoctorIdADoctorSeesOnlyTheirOwn) {
    for (const std::string& path : {kSessions, kTimings, kAppointments}) {
        auto r = api.call("GET", path, api.doctor_a);
        ASSERT_EQ(r.status, 200) << path << ": " << r.text();
        const json& rows = r.body.begin().value();
        if (path != kSessions) {
            EXPECT_FALSE(rows.empty()) << path << " (doctor_a has demo timings and appointments)";
        }
        for (const auto& row : rows) EXPECT_EQ(row.value("doctor_id", ""), kDoctorA) << path;
    }
}

// ---- rate limit ----

TEST(ApiRateLimit, FourthTokenInARowFromOneCallerIs429WithRetryAfter) {
    ApiDaemon api({"--set", "http.rate_limit_per_minute=6", "--set", "http.rate_limit_burst=3"});
    api.start();
    const Session s = api.scheduled_session();
    const std::string path = kSessions + "/" + s.id + "/token";
    const json body{{"user_id", s.patient_id}, {"user_type", "patient"}};
    for (int i = 0; i < 3; ++i) ASSERT_EQ(api.call("POST", path, api.admin, body).status, 200) << "request " << i + 1;
    auto limited = api.call("POST", path, api.admin, body);
    ASSERT_TRUE(is_error(limited, 429, "rate_limited"));
    const std::string retry = limited.raw.header("retry-after").value_or("");
    ASSERT_FALSE(retry.empty());
    EXPECT_EQ(retry.find_first_not_of("0123456789"), std::string::npos) << retry;
    const int seconds = std::stoi(retry);
    EXPECT_GE(seconds, 1);
    EXPECT_LE(seconds, 10) << "six a minute: one more every ten seconds";
    // Each caller has a budget of their own; routes that are not rate-limited still answer.
    EXPECT_EQ(api.call("POST", kSessions + "/" + s.id + "/join", s.patient_token).status, 200);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(api.call("POST", kSessions + "/" + s.id + "/join", s.patient_token).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", kSessions + "/" + s.id + "/join", s.patient_token), 429, "rate_limited"));
    EXPECT_EQ(api.call("GET", kSessions + "/" + s.id, api.doctor_b).status, 200);
}

TEST(ApiRateLimit, RefusedRequestsFromAnAddressDoNotLockOutASignedInCallerThere) {
    ApiDaemon api({"--set", "http.rate_limit_per_minute=6", "--set", "http.rate_limit_burst=3"});
    api.start();
    const Session s = api.scheduled_session();
    const std::string path = kSessions + "/" + s.id + "/token";
    const json body{{"user_id", s.patient_id}, {"user_type", "patient"}};
    for (int i = 0; i < 20; ++i) {
        const int status = api.call("POST", path, "not-a-token", body).status;
        ASSERT_TRUE(status == 401 || status == 429) << status;
    }
    EXPECT_TRUE(is_error(api.call("POST", path, "not-a-token", body), 429, "rate_limited"));
    EXPECT_EQ(api.call("POST", path, api.admin, body).status, 200) << "the anonymous flood used the admin's budget";
}

// ---- audit log ----

TEST_F(ApiTest, TokenIssueAdmitAndSessionReadAreInTheAuditLogWithTheClientAddress) {
    const Session s = api.waiting_session();
    auto issued = api.call("POST", kSessions + "/" + s.id + "/token", api.admin,
                           {{"user_id", s.patient_id}, {"user_type", "patient"}});
    ASSERT_EQ(issued.status, 200) << issued.text();
    ASSERT_EQ(api.call("POST", kSessions + "/" + s.id + "/admit", api.doctor_b).status, 200);
    ASSERT_EQ(api.call("GET", kSessions + "/" + s.id, api.doctor_b).status, 200);

    const auto rows = api.query_rows("SELECT actor, role, action, session_id, client_address, coalesce(detail, '') "
                                     "FROM audit_log WHERE session_id = '" + s.id + "' ORDER BY id");
    auto find = [&](const std::string& action) -> const std::vector<std::string>* {
        for (const auto& r : rows)
            if (r[2] == action) return &r;
        return nullptr;
    };
    struct Expected { const char* action; std::string actor; const char* role; };
    const Expected expected[] = {
        {"session.open", kDoctorB, "doctor"},   {"session.join", s.patient_id, "patient"},
        {"token.issue", kAdminId, "admin"},     {"session.admit", kDoctorB, "doctor"},
        {"session.read", kDoctorB, "doctor"},
    };
    for (const auto& e : expected) {
        const auto* row = find(e.action);
        ASSERT_NE(row, nullptr) << "no audit row for " << e.action << " (" << rows.size() << " rows)";
        EXPECT_EQ((*row)[0], e.actor) << e.action;
        EXPECT_EQ((*row)[1], e.role) << e.action;
        EXPECT_EQ((*row)[3], s.id) << e.action;
        EXPECT_EQ((*row)[4], "127.0.0.1") << e.action;
    }
    const json detail = json::parse(find("token.issue")->at(5), nullptr, false);
    EXPECT_EQ(detail.value("user_type", ""), "patient") << find("token.issue")->at(5);
    for (const auto& r : rows)
        EXPECT_EQ(r[5].find(issued.body.value("token", "")), std::string::npos) << "a token in the audit log";
}

// ---- metrics ----

TEST_F(ApiTest, MetricsCountCreateFailuresTokenRefusalsSessionsDurationsAndNoShows) {
    const Session done = api.in_progress_session();
    ASSERT_EQ(api.call("POST", kSessions + "/" + done.id + "/end", api.doctor_b).status, 200);
    const Session open = api.scheduled_session();
    ASSERT_EQ(api.call("POST", kSessions, api.doctor_b, {{"appointment_id", kUnknownId}, {"duration_minutes", 30}}).status, 422);
    const Session live = api.in_progress_session();   // Start on a call in progress
    ASSERT_EQ(api.call("POST", kSessions, api.doctor_b, {{"appointment_id", live.appointment_id}, {"duration_minutes", 30}}).status, 409);
    ASSERT_EQ(api.call("GET", kSessions, "garbage").status, 401);
    ASSERT_EQ(api.call("GET", kSessions, "").status, 401);
    ASSERT_EQ(api.call("POST", kSessions + "/" + done.id + "/join", done.patient_token).status, 401);
    ASSERT_EQ(api.call("POST", kSessions + "/" + open.id + "/join", done.patient_token).status, 403);

    auto r = api.call("GET", "/metrics", "");
    ASSERT_EQ(r.status, 200);
    const std::string& m = r.raw.body;
    EXPECT_EQ(metric_value(m, R"(consult_session_create_failures_total{reason="appointment_not_found"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_session_create_failures_total{reason="session_exists"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_token_refusals_total{reason="invalid_token"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_token_refusals_total{reason="unauthenticated"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_token_refusals_total{reason="session_ended"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_token_refusals_total{reason="forbidden"})"), 1) << m;
    const std::string day = local_day_of(done.starts_at);
    const std::string open_day = local_day_of(open.starts_at);
    EXPECT_EQ(metric_value(m, "consult_sessions{day=\"" + day + "\",status=\"completed\"}"), 1) << m;
    EXPECT_GE(metric_value(m, "consult_sessions{day=\"" + open_day + "\",status=\"scheduled\"}"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_session_duration_seconds_bucket{le="60"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_session_duration_seconds_bucket{le="+Inf"})"), 1) << m;
    EXPECT_EQ(metric_value(m, "consult_session_duration_seconds_count"), 1) << m;
    EXPECT_GE(metric_value(m, "consult_no_shows_total"), 0) << m;
    for (const char* type : {"# TYPE consult_session_create_failures_total counter", "# TYPE consult_token_refusals_total counter",
                             "# TYPE consult_sessions gauge", "# TYPE consult_session_duration_seconds histogram",
                             "# TYPE consult_no_shows_total counter"})
        EXPECT_NE(m.find(type), std::string::npos) << type;
}

}  // namespace
}  // namespace consult::test::api
