// Bad input, one table per route: every refusal has the one error shape and the right
// status and code, nothing is half-written, and the daemon keeps answering /healthz.
#include "api_fixture.hpp"

namespace consult::test::api {
namespace {

struct Case {
    std::string what;
    std::string body;                                // sent as is
    long status = 0;
    std::string code, field;
    std::string path;                                // empty: the route's own
    std::optional<std::string> authorization;        // nothing: the route's token; "": no header
    std::optional<std::string> content_type;         // nothing: application/json when there is a body
};

Case with_body(std::string what, std::string body, long status, std::string code, std::string field = "") {
    return {std::move(what), std::move(body), status, std::move(code), std::move(field)};
}

Case on_path(std::string what, std::string path, long status, std::string code, std::string field = "",
             std::string body = "") {
    return {std::move(what), std::move(body), status, std::move(code), std::move(field), std::move(path)};
}

struct Route {
    std::string method, path, token;
    std::string valid_body;          // a body this route would accept (sent with the auth cases)
    bool json_body = false;          // takes a JSON body: add the common body cases
    bool body_optional = false;      // an empty body is fine (admit, end, cancel)
};

class ApiBadInput : public ApiTest {
protected:
    // Cases every /api route gets: the Authorization header.
    std::vector<Case> auth_cases(const Route& r) const {
        const std::string foreign = tokens::TokenService(std::string(64, 'f'))
                                        .issue(kAdminId, tokens::Role::Admin, std::nullopt, 600, tokens::unix_now())
                                        ->token;
        const std::string expired = api.verifier()
                                        .issue(kAdminId, tokens::Role::Admin, std::nullopt, 60, tokens::unix_now() - 3600)
                                        ->token;
        const std::string payload = api.admin.substr(api.admin.find('.') + 1, api.admin.rfind('.') - api.admin.find('.') - 1);
        const std::string unsigned_token = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + ".";
        auto auth = [&](std::string what, std::string header, long status, std::string code) {
            Case c = with_body(std::move(what), r.valid_body, status, std::move(code));
            c.authorization = std::move(header);
            return c;
        };
        return {auth("no Authorization header", "", 401, "unauthenticated"),
                auth("Basic scheme", "Basic YWRtaW46YWRtaW4=", 401, "unauthenticated"),
                auth("Bearer with nothing after it", "Bearer ", 401, "unauthenticated"),
                auth("garbage token", "Bearer not.a.token", 401, "invalid_token"),
                auth("token signed with another key", "Bearer " + foreign, 401, "invalid_token"),
                auth("alg none, no signature", "Bearer " + unsigned_token, 401, "invalid_token"),
                auth("tampered signature", "Bearer " + api.admin.substr(0, api.admin.size() - 2) +
                                               (api.admin.ends_with("AA") ? "BB" : "AA"), 401, "invalid_token"),
                auth("expired an hour ago", "Bearer " + expired, 401, "token_expired")};
    }

    // Cases every route with a JSON body gets.
    static std::vector<Case> body_cases(const Route& r) {
        std::vector<Case> out{
            with_body("malformed JSON", R"({"a": )", 400, "malformed_json"),
            with_body("JSON with trailing garbage", "{} x", 400, "malformed_json"),
            with_body("JSON array instead of an object", "[1, 2]", 400, "malformed_json"),
            with_body("JSON string instead of an object", R"("hello")", 400, "malformed_json"),
            with_body("deeply nested arrays", std::string(20000, '[') + std::string(20000, ']'), 400, "malformed_json"),
            with_body("not UTF-8", "{\"x\": \"\xff\xfe\xc3\x28\"}", 400, "invalid_encoding"),
        };
        if (!r.body_optional) {
            Case empty = with_body("empty body", "", 400, "malformed_json");
            empty.content_type = "application/json";
            out.push_back(empty);
        }
        Case text = with_body("Content-Type text/plain", r.valid_body, 415, "unsupported_media_type");
        text.content_type = "text/plain";
        out.push_back(text);
        Case form = with_body("Content-Type form", r.valid_body, 415, "unsupported_media_type");
        form.content_type = "application/x-www-form-urlencoded";
        out.push_back(form);
        Case none = with_body("no Content-Type", r.valid_body, 415, "unsupported_media_type");
        none.content_type = "";
        out.push_back(none);
        return out;
    }

    void expect_refused(const Route& r, const std::vector<Case>& specific) {
        std::vector<Case> cases = auth_cases(r);
        if (r.json_body)
            for (auto& c : body_cases(r)) cases.push_back(std::move(c));
        cases.insert(cases.end(), specific.begin(), specific.end());
        for (const auto& c : cases) {
            const std::string path = c.path.empty() ? r.path : c.path;
            SCOPED_TRACE(r.method + " " + path + ": " + c.what);
            std::vector<std::string> headers;
            if (!c.authorization) headers.push_back(bearer(r.token));
            else if (!c.authorization->empty()) headers.push_back("Authorization: " + *c.authorization);
            const std::string type = c.content_type.value_or(c.body.empty() ? "" : "application/json");
            headers.push_back(type.empty() ? "Content-Type:" : "Content-Type: " + type);  // bare: no header at all
            auto reply = api.send(r.method, path, headers, c.body);
            EXPECT_TRUE(is_error(reply, c.status, c.code, c.field));
            ASSERT_TRUE(api.healthy()) << "consultd stopped answering; stderr:\n" << api.proc().stderr_text();
        }
    }

    long count(const std::string& table) const {
        return std::stol(api.query_column("SELECT count(*) FROM " + table).at(0));
    }
};

std::string uppercase(std::string s) {
    for (auto& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}

// ---- sessions ----

TEST_F(ApiBadInput, CreateSession) {
    const std::string a = api.book()["id"];
    const std::string valid = R"({"appointment_id": ")" + a + R"(", "duration_minutes": 30})";
    auto body = [&](const std::string& fields) { return "{" + fields + "}"; };
    const std::string appt = R"("appointment_id": ")" + a + R"(")";
    const auto sessions_before = api.doctor_b_sessions();
    const long rows_before = count("video_consultation_sessions"), transitions_before = count("session_transitions");

    expect_refused({"POST", kSessions, api.doctor_b, valid, true}, {
        with_body("appointment_id missing", body(R"("duration_minutes": 30)"), 400, "missing_field", "appointment_id"),
        with_body("duration_minutes missing", body(appt), 400, "missing_field", "duration_minutes"),
        with_body("appointment_id null", body(R"("appointment_id": null, "duration_minutes": 30)"), 400, "missing_field", "appointment_id"),
        with_body("appointment_id a number", body(R"("appointment_id": 12345, "duration_minutes": 30)"), 400, "invalid_type", "appointment_id"),
        with_body("duration_minutes a string", body(appt + R"(, "duration_minutes": "30")"), 400, "invalid_type", "duration_minutes"),
        with_body("duration_minutes a fraction", body(appt + R"(, "duration_minutes": 30.5)"), 400, "invalid_type", "duration_minutes"),
        with_body("duration_minutes a boolean", body(appt + R"(, "duration_minutes": true)"), 400, "invalid_type", "duration_minutes"),
        with_body("duration_minutes 4", body(appt + R"(, "duration_minutes": 4)"), 422, "invalid_value", "duration_minutes"),
        with_body("duration_minutes 241", body(appt + R"(, "duration_minutes": 241)"), 422, "invalid_value", "duration_minutes"),
        with_body("duration_minutes negative", body(appt + R"(, "duration_minutes": -30)"), 422, "invalid_value", "duration_minutes"),
        with_body("duration_minutes 2^32+30", body(appt + R"(, "duration_minutes": 4294967326)"), 422, "invalid_value", "duration_minutes"),
        with_body("duration_minutes 2^64-1", body(appt + R"(, "duration_minutes": 18446744073709551615)"), 422, "invalid_value", "duration_minutes"),
        with_body("appointment_id not a UUID", body(R"("appointment_id": "appt-1", "duration_minutes": 30)"), 422, "invalid_uuid", "appointment_id"),
        with_body("appointment_id empty", body(R"("appointment_id": "", "duration_minutes": 30)"), 422, "invalid_value", "appointment_id"),
        with_body("unknown appointment", body(R"("appointment_id": ")" + std::string(kUnknownId) + R"(", "duration_minutes": 30)"), 422, "appointment_not_found", "appointment_id"),
        with_body("appointment id in capitals", body(R"("appointment_id": ")" + uppercase(a) + R"(", "duration_minutes": 30)"), 422, "appointment_not_found", "appointment_id"),
    });
    // No half-written rows: nothing new in the list, the table or the transition log.
    EXPECT_EQ(api.doctor_b_sessions(), sessions_before);
    EXPECT_EQ(count("video_consultation_sessions"), rows_before);
    EXPECT_EQ(count("session_transitions"), transitions_before);
    EXPECT_EQ(api.call("POST", kSessions, api.doctor_b, json::parse(valid)).status, 200)
        << "the valid body opens the session prepared at booking";
}

TEST_F(ApiBadInput, ListSessions) {
    const std::string base = kSessions + "?";
    expect_refused({"GET", kSessions, api.doctor_b}, {
        on_path("doctor_id not a UUID", base + "doctor_id=dr-b", 400, "invalid_uuid", "doctor_id"),
        on_path("unknown status", base + "status=finished", 400, "invalid_enum", "status"),
        on_path("status in capitals", base + "status=SCHEDULED", 400, "invalid_enum", "status"),
        on_path("date 30 February", base + "date=2026-02-30", 400, "invalid_date", "date"),
        on_path("date month 13", base + "date=2026-13-01", 400, "invalid_date", "date"),
        on_path("date without leading zeros", base + "date=2026-1-5", 400, "invalid_date", "date"),
        on_path("date as a word", base + "date=today", 400, "invalid_date", "date"),
        on_path("date with SQL", base + "date=2026-01-01%27%20OR%20%271%27%3D%271", 400, "invalid_date", "date"),
        on_path("date and time", base + "date=2026-01-01T00:00:00Z", 400, "invalid_date", "date"),
    });
}

TEST_F(ApiBadInput, GetSessionAndRecording) {
    const Session s = api.scheduled_session();
    for (const std::string suffix : {"", "/recording"}) {
        expect_refused({"GET", kSessions + "/" + s.id + suffix, api.doctor_b}, {
            on_path("id not a UUID", kSessions + "/session-1" + suffix, 400, "invalid_uuid", "id"),
            on_path("id with a quote", kSessions + "/%27%20OR%201%3D1" + suffix, 400, "invalid_uuid", "id"),
            on_path("unknown id", kSessions + "/" + kUnknownId + suffix, 404, "session_not_found"),
        });
    }
}

TEST_F(ApiBadInput, IssueToken) {
    const Session s = api.scheduled_session();
    const std::string path = kSessions + "/" + s.id + "/token";
    const std::string user = R"("user_id": ")" + s.patient_id + R"(")";
    auto body = [](const std::string& fields) { return "{" + fields + "}"; };
    expect_refused({"POST", path, api.admin, body(user + R"(, "user_type": "patient")"), true}, {
        with_body("user_id missing", body(R"("user_type": "patient")"), 400, "missing_field", "user_id"),
        with_body("user_type missing", body(user), 400, "missing_field", "user_type"),
        with_body("user_id a number", body(R"("user_id": 7, "user_type": "patient")"), 400, "invalid_type", "user_id"),
        with_body("user_type a number", body(user + R"(, "user_type": 1)"), 400, "invalid_type", "user_type"),
        with_body("user_type an object", body(user + R"(, "user_type": {"a": 1})"), 400, "invalid_type", "user_type"),
        with_body("user_type unknown", body(user + R"(, "user_type": "nurse")"), 422, "invalid_enum", "user_type"),
        with_body("user_type admin", body(user + R"(, "user_type": "admin")"), 422, "invalid_enum", "user_type"),
        with_body("user_id not a UUID", body(R"("user_id": "pat-1", "user_type": "patient")"), 422, "invalid_uuid", "user_id"),
        with_body("user_id not this session's patient", body(R"("user_id": ")" + std::string(kUnknownId) + R"(", "user_type": "patient")"), 422, "not_a_participant", "user_id"),
        with_body("the patient as the doctor", body(user + R"(, "user_type": "doctor")"), 422, "not_a_participant", "user_id"),
        on_path("id not a UUID", kSessions + "/nope/token", 400, "invalid_uuid", "id", body(user + R"(, "user_type": "patient")")),
        on_path("unknown session", kSessions + "/" + kUnknownId + "/token", 404, "session_not_found", "", body(user + R"(, "user_type": "patient")")),
    });
}

TEST_F(ApiBadInput, JoinSession) {
    const Session s = api.scheduled_session();
    expect_refused({"POST", kSessions + "/" + s.id + "/join", s.patient_token}, {
        on_path("id not a UUID", kSessions + "/room-1/join", 400, "invalid_uuid", "id"),
        on_path("unknown session", kSessions + "/" + kUnknownId + "/join", 404, "session_not_found"),
    });
    EXPECT_EQ(api.session_status(s.id), "scheduled");
    EXPECT_EQ(count("video_consultation_participants"), 0);
}

TEST_F(ApiBadInput, AdmitEndAndCancel) {
    const Session s = api.scheduled_session();  // cancel would succeed: every case must be refused before that
    for (const char* action : {"admit", "end", "cancel"}) {
        const std::string path = kSessions + "/" + s.id + "/" + action;
        expect_refused({"POST", path, api.doctor_b, R"({"reason": "ok"})", true, true}, {
            with_body("notes a number", R"({"notes": 5})", 400, "invalid_type", "notes"),
            with_body("reason an array", R"({"reason": ["a"]})", 400, "invalid_type", "reason"),
            with_body("notes over 20000 characters", R"({"notes": ")" + std::string(20001, 'n') + R"("})", 422, "invalid_value", "notes"),
            with_body("reason over 500 characters", R"({"reason": ")" + std::string(501, 'r') + R"("})", 422, "invalid_value", "reason"),
            on_path("id not a UUID", kSessions + "/x/" + action, 400, "invalid_uuid", "id"),
            on_path("unknown session", kSessions + "/" + kUnknownId + "/" + action, 404, "session_not_found"),
        });
        EXPECT_EQ(api.session_status(s.id), "scheduled") << "after the refused " << action << "s";
    }
    EXPECT_EQ(count("session_transitions"), 1) << "only the creation";
}

// ---- timings ----

TEST_F(ApiBadInput, ListTimings) {
    expect_refused({"GET", kTimings, api.admin}, {
        on_path("doctor_id not a UUID", kTimings + "?doctor_id=ben", 400, "invalid_uuid", "doctor_id"),
    });
}

// Fields of a timing body, with one replaced or removed.
std::string timing_body(const std::string& doctor, const std::string& field = "", const std::string& value = "") {
    std::vector<std::pair<std::string, std::string>> f{{"doctor_id", "\"" + doctor + "\""}, {"day_of_week", "0"},
        {"start_time", "\"06:00\""}, {"end_time", "\"07:00\""}, {"slot_duration_minutes", "30"}};
    if (field == "is_active") f.emplace_back(field, value);
    std::string out;
    for (auto& [k, v] : f) {
        if (k == field && value.empty()) continue;
        out += (out.empty() ? "" : ", ") + ("\"" + k + "\": ") + (k == field ? value : v);
    }
    return "{" + out + "}";
}

std::vector<Case> timing_field_cases(const std::string& doctor) {
    auto t = [&](const std::string& field, const std::string& value) { return timing_body(doctor, field, value); };
    std::vector<Case> out;
    for (const char* f : {"doctor_id", "day_of_week", "start_time", "end_time"})
        out.push_back(with_body(std::string(f) + " missing", t(f, ""), 400, "missing_field", f));
    out.push_back(with_body("no duration by either name", t("slot_duration_minutes", ""), 400, "missing_field", "duration_minutes"));
    std::string both = t("slot_duration_minutes", "30");
    both.insert(both.size() - 1, ",\"duration_minutes\":20");
    out.push_back(with_body("the two names disagree", both, 422, "invalid_field", "duration_minutes"));
    const std::vector<Case> more{
        with_body("day_of_week a string", t("day_of_week", "\"1\""), 400, "invalid_type", "day_of_week"),
        with_body("start_time a number", t("start_time", "600"), 400, "invalid_type", "start_time"),
        with_body("slot_duration_minutes a string", t("slot_duration_minutes", "\"30\""), 400, "invalid_type", "slot_duration_minutes"),
        with_body("is_active a string", t("is_active", "\"yes\""), 400, "invalid_type", "is_active"),
        with_body("day_of_week 7", t("day_of_week", "7"), 422, "invalid_value", "day_of_week"),
        with_body("day_of_week -1", t("day_of_week", "-1"), 422, "invalid_value", "day_of_week"),
        with_body("slot_duration_minutes 4", t("slot_duration_minutes", "4"), 422, "invalid_value", "slot_duration_minutes"),
        with_body("slot_duration_minutes 241", t("slot_duration_minutes", "241"), 422, "invalid_value", "slot_duration_minutes"),
        with_body("start_time 9am", t("start_time", "\"9am\""), 422, "invalid_field", "start_time"),
        with_body("start_time 24:00", t("start_time", "\"24:00\""), 422, "invalid_field", "start_time"),
        with_body("start_time with seconds", t("start_time", "\"06:00:00\""), 422, "invalid_value", "start_time"),
        with_body("end_time before start_time", t("end_time", "\"05:00\""), 422, "invalid_field", "end_time"),
        with_body("slot longer than the window", t("end_time", "\"06:20\""), 422, "invalid_field", "slot_duration_minutes"),
        with_body("doctor_id not a UUID", t("doctor_id", "\"dr-ben\""), 422, "invalid_uuid", "doctor_id"),
        with_body("unknown doctor", t("doctor_id", "\"" + std::string(kUnknownId) + "\""), 422, "unknown_doctor", "doctor_id"),
        with_body("overlaps doctor_b's all-day timing", timing_body(kDoctorB), 409, "timing_overlap"),
    };
    out.insert(out.end(), more.begin(), more.end());
    return out;
}

TEST_F(ApiBadInput, CreateTiming) {
    const long before = count("video_consultation_timings");
    expect_refused({"POST", kTimings, api.admin, timing_body(kDoctorA), true}, timing_field_cases(kDoctorA));
    EXPECT_EQ(count("video_consultation_timings"), before);
}

TEST_F(ApiBadInput, UpdateTiming) {
    auto created = api.call("POST", kTimings, api.admin, json::parse(timing_body(kDoctorA)));
    ASSERT_EQ(created.status, 201) << created.text();
    const std::string path = kTimings + "/" + created.body.value("id", "");
    std::vector<Case> cases = timing_field_cases(kDoctorA);
    cases.push_back(on_path("id not a UUID", kTimings + "/t-1", 400, "invalid_uuid", "id", timing_body(kDoctorA)));
    cases.push_back(on_path("unknown timing", kTimings + "/" + kUnknownId, 404, "timing_not_found", "", timing_body(kDoctorA)));
    expect_refused({"PUT", path, api.admin, timing_body(kDoctorA), true}, cases);
    auto list = api.call("GET", kTimings + "?doctor_id=" + kDoctorA, api.admin);
    bool unchanged = false;
    for (const auto& t : list.body["timings"])
        if (t["id"] == created.body["id"]) unchanged = t == created.body;
    EXPECT_TRUE(unchanged) << list.text();
}

TEST_F(ApiBadInput, DeleteTiming) {
    const std::string id = api.all_day_timings().at(3).value("id", "");
    expect_refused({"DELETE", kTimings + "/" + id, api.admin}, {
        on_path("id not a UUID", kTimings + "/monday", 400, "invalid_uuid", "id"),
        on_path("unknown timing", kTimings + "/" + kUnknownId, 404, "timing_not_found"),
    });
    EXPECT_EQ(api.call("GET", kTimings + "?doctor_id=" + kDoctorB, api.admin).body["timings"].size(), 7u);
}

// ---- availability and appointments ----

TEST_F(ApiBadInput, Availability) {
    const std::string doctor = std::string("doctor_id=") + kDoctorB, date = "date=" + local_day();
    const std::string base = kAvailability + "?";
    expect_refused({"GET", base + doctor + "&" + date, api.admin}, {
        on_path("doctor_id missing", base + date, 400, "missing_field", "doctor_id"),
        on_path("date missing", base + doctor, 400, "missing_field", "date"),
        on_path("date empty", base + doctor + "&date=", 400, "missing_field", "date"),
        on_path("doctor_id not a UUID", base + "doctor_id=ben&" + date, 400, "invalid_uuid", "doctor_id"),
        on_path("29 February in a common year", base + doctor + "&date=2027-02-29", 400, "invalid_date", "date"),
        on_path("date before 1970", base + doctor + "&date=1969-12-31", 400, "invalid_date", "date"),
        on_path("date reversed", base + doctor + "&date=24-11-2026", 400, "invalid_date", "date"),
        on_path("unknown doctor", base + "doctor_id=" + kUnknownId + "&" + date, 422, "unknown_doctor", "doctor_id"),
    });
}

TEST_F(ApiBadInput, ListAppointments) {
    expect_refused({"GET", kAppointments, api.admin}, {
        on_path("date not a date", kAppointments + "?date=2026-00-10", 400, "invalid_date", "date"),
        on_path("doctor_id not a UUID", kAppointments + "?doctor_id=5d0c1a1e", 400, "invalid_uuid", "doctor_id"),
    });
}

TEST_F(ApiBadInput, BookAppointment) {
    const json taken = api.book();
    const json slot = api.next_free_slot();
    const std::string patient = api.patients[0];
    auto b = [&](const std::string& field, const json& value) {
        json body = api.appointment_body(slot, patient);
        if (value.is_discarded()) body.erase(field);
        else body[field] = value;
        return body.dump();
    };
    const json gone = json(json::value_t::discarded);
    const std::time_t start = parse_utc(slot["starts_at"]);
    const long before = count("appointments");
    std::vector<Case> cases;
    for (const char* f : {"doctor_id", "patient_id", "starts_at", "consultation_type"})
        cases.push_back(with_body(std::string(f) + " missing", b(f, gone), 400, "missing_field", f));
    const std::vector<Case> more{
        with_body("duration_minutes a string", b("duration_minutes", "30"), 400, "invalid_type", "duration_minutes"),
        with_body("starts_at a number", b("starts_at", start), 400, "invalid_type", "starts_at"),
        with_body("consultation_type a number", b("consultation_type", 2), 400, "invalid_type", "consultation_type"),
        with_body("reason a number", b("reason", 5), 400, "invalid_type", "reason"),
        with_body("duration_minutes 4", b("duration_minutes", 4), 422, "invalid_value", "duration_minutes"),
        with_body("duration_minutes 241", b("duration_minutes", 241), 422, "invalid_value", "duration_minutes"),
        with_body("reason over 500 characters", b("reason", std::string(501, 'r')), 422, "invalid_value", "reason"),
        with_body("starts_at over 40 characters", b("starts_at", std::string(41, '2')), 422, "invalid_value", "starts_at"),
        with_body("consultation_type phone", b("consultation_type", "phone"), 422, "invalid_enum", "consultation_type"),
        with_body("patient_id not a UUID", b("patient_id", "alex"), 422, "invalid_uuid", "patient_id"),
        with_body("doctor_id not a UUID", b("doctor_id", "ben"), 422, "invalid_uuid", "doctor_id"),
        with_body("starts_at a word", b("starts_at", "tomorrow"), 422, "invalid_field", "starts_at"),
        with_body("starts_at without a zone", b("starts_at", "2030-01-07T09:00:00"), 422, "invalid_field", "starts_at"),
        with_body("starts_at 31 April", b("starts_at", "2030-04-31T09:00:00Z"), 422, "invalid_field", "starts_at"),
        with_body("unknown doctor", b("doctor_id", kUnknownId), 422, "unknown_doctor", "doctor_id"),
        with_body("unknown patient", b("patient_id", kUnknownId), 422, "unknown_patient", "patient_id"),
        with_body("longer than the slot", b("duration_minutes", 60), 422, "invalid_field", "duration_minutes"),
        with_body("off the slot grid", b("starts_at", iso_utc(start + 600)), 409, "slot_unavailable"),
        with_body("a slot already booked", b("starts_at", taken["starts_at"]), 409, "slot_unavailable"),
    };
    cases.insert(cases.end(), more.begin(), more.end());
    expect_refused({"POST", kAppointments, api.admin, b("reason", "valid"), true}, cases);
    EXPECT_EQ(count("appointments"), before);
}

// A start that is a valid ISO time but falls after 9999-12-31T23:59Z in UTC cannot be stored
// (starts_at must be YYYY-MM-DD...Z): that is a bad starts_at, not a taken video slot.
TEST_F(ApiBadInput, BookAppointmentStartingAfterTheYear9999Is422InvalidField) {
    const long before = count("appointments");
    for (const char* type : {"in-person", "video"}) {
        json body = api.appointment_body(api.next_free_slot(), api.patients[0], type);
        body["starts_at"] = "9999-12-31T23:30:00-01:00";  // 10000-01-01T00:30Z, on doctor_b's all-day grid
        auto r = api.call("POST", kAppointments, api.admin, body);
        EXPECT_TRUE(is_error(r, 422, "invalid_field", "starts_at")) << type;
        EXPECT_TRUE(api.healthy());
    }
    EXPECT_EQ(count("appointments"), before);
}

}  // namespace
}  // namespace consult::test::api
