// The REST API over real HTTP against a real consultd --demo: the happy path of every
// route, the session life cycle and its refusals, and double booking under concurrency.
#include "api_fixture.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <latch>
#include <regex>
#include <thread>

namespace consult::test::api {
namespace {

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

std::string session_path(const Session& s, const std::string& action = "") {
    return kSessions + "/" + s.id + (action.empty() ? "" : "/" + action);
}

bool lists_id(const json& rows, const std::string& id) {
    for (const auto& r : rows)
        if (r.value("id", "") == id) return true;
    return false;
}

// ---- sessions: happy path ----

TEST_F(ApiTest, CreateSessionAnswersRoomTokensAndAnInviteForThisSessionsPatient) {
    const json appt = api.unprepared_appointment();
    const std::time_t before = std::time(nullptr);
    auto r = api.call("POST", kSessions, api.doctor_b, {{"appointment_id", appt["id"]}, {"duration_minutes", 25}});
    ASSERT_EQ(r.status, 201) << r.text();
    const json& b = r.body;
    for (const char* key : {"session_id", "room_name", "doctor_token", "patient_invite_url", "expires_at", "session"})
        EXPECT_TRUE(b.contains(key)) << "missing " << key << " in " << r.raw.body;
    const std::string id = b.value("session_id", ""), room = b.value("room_name", "");
    EXPECT_TRUE(std::regex_match(id, kUuid)) << id;
    EXPECT_GE(room.size(), 22u) << room;
    EXPECT_EQ(b["session"].value("status", ""), "scheduled");
    EXPECT_EQ(b["session"].value("scheduled_duration_minutes", 0), 25);
    EXPECT_EQ(b["session"].value("appointment_id", ""), appt["id"]);

    const std::string url = b.value("patient_invite_url", "");
    const std::string marker = "/v/" + room + "#t=";
    const auto at = url.find(marker);
    ASSERT_NE(at, std::string::npos) << url;
    EXPECT_EQ(url.rfind("http", 0), 0u) << url;
    const std::string patient_token = url.substr(at + marker.size());

    auto verifier = api.verifier();
    auto patient = verifier.check(patient_token, tokens::unix_now());
    ASSERT_TRUE(patient.has_value()) << "the invite's token does not verify: " << tokens::describe(patient.error());
    EXPECT_EQ(patient->role, tokens::Role::Patient);
    EXPECT_EQ(patient->identity, appt["patient_id"]);
    EXPECT_EQ(patient->session_id.value_or(""), id);
    auto doctor = verifier.check(b.value("doctor_token", ""), tokens::unix_now());
    ASSERT_TRUE(doctor.has_value());
    EXPECT_EQ(doctor->role, tokens::Role::Doctor);
    EXPECT_EQ(doctor->identity, kDoctorB);

    const std::time_t expires = parse_utc(b.value("expires_at", ""));
    EXPECT_EQ(expires, std::time_t(patient->expires_at)) << b["expires_at"];
    EXPECT_GT(expires, before);
    EXPECT_LE(expires, before + 3600 + 5);

    // The patient's own link works for joining (and only that: see api_roles_test.cpp).
    EXPECT_EQ(api.call("POST", kSessions + "/" + id + "/join", patient_token).status, 200);
}

TEST_F(ApiTest, SessionGoesFromScheduledToCompletedThroughEveryRoute) {
    const Session s = api.scheduled_session();
    const std::string day = local_day_of(s.starts_at);

    auto got = api.call("GET", session_path(s), api.doctor_b);
    ASSERT_EQ(got.status, 200) << got.text();
    EXPECT_EQ(got.body.value("id", ""), s.id);
    EXPECT_EQ(got.body.value("room_name", ""), s.room);
    EXPECT_EQ(got.body.value("doctor_id", ""), kDoctorB);
    EXPECT_EQ(got.body.value("patient_id", ""), s.patient_id);
    ASSERT_TRUE(got.body["participants"].is_array()) << got.text();
    EXPECT_TRUE(got.body["participants"].empty());

    const std::string list = kSessions + "?doctor_id=" + kDoctorB + "&date=" + day;
    auto scheduled = api.call("GET", list + "&status=scheduled", api.doctor_b);
    ASSERT_EQ(scheduled.status, 200) << scheduled.text();
    EXPECT_TRUE(lists_id(scheduled.body["sessions"], s.id)) << scheduled.text();
    auto waiting = api.call("GET", list + "&status=waiting", api.admin);
    ASSERT_EQ(waiting.status, 200);
    EXPECT_FALSE(lists_id(waiting.body["sessions"], s.id));
    auto other_doctor = api.call("GET", kSessions + "?date=" + day + "&doctor_id=" + kDoctorA, api.admin);
    ASSERT_EQ(other_doctor.status, 200);
    EXPECT_FALSE(lists_id(other_doctor.body["sessions"], s.id)) << "listed under the other doctor";

    for (const auto& [user, type] : {std::pair{s.patient_id, "patient"}, std::pair{std::string(kDoctorB), "doctor"}}) {
        auto t = api.call("POST", session_path(s, "token"), api.admin, {{"user_id", user}, {"user_type", type}});
        ASSERT_EQ(t.status, 200) << type << ": " << t.text();
        auto claims = api.verifier().check(t.body.value("token", ""), tokens::unix_now());
        ASSERT_TRUE(claims.has_value()) << type;
        EXPECT_EQ(claims->identity, user);
        EXPECT_EQ(parse_utc(t.body.value("expires_at", "")), std::time_t(claims->expires_at));
        EXPECT_EQ(claims->session_id.value_or(""), std::string(type) == "patient" ? s.id : "");
    }

    auto patient_join = api.call("POST", session_path(s, "join"), s.patient_token);
    ASSERT_EQ(patient_join.status, 200) << patient_join.text();
    EXPECT_EQ(patient_join.body["session"].value("status", ""), "waiting");
    EXPECT_EQ(patient_join.body["participant"].value("user_type", ""), "patient");
    auto doctor_join = api.call("POST", session_path(s, "join"), api.doctor_b);
    ASSERT_EQ(doctor_join.status, 200) << doctor_join.text();
    EXPECT_EQ(doctor_join.body["session"].value("status", ""), "waiting");
    EXPECT_EQ(doctor_join.body["participant"].value("user_id", ""), kDoctorB);
    waiting = api.call("GET", list + "&status=waiting", api.admin);
    EXPECT_TRUE(lists_id(waiting.body["sessions"], s.id)) << waiting.text();

    auto admitted = api.call("POST", session_path(s, "admit"), api.doctor_b);
    ASSERT_EQ(admitted.status, 200) << admitted.text();
    EXPECT_EQ(admitted.body.value("status", ""), "in-progress");
    EXPECT_TRUE(admitted.body["started_at"].is_string());

    got = api.call("GET", session_path(s), api.admin);
    ASSERT_EQ(got.body["participants"].size(), 2u) << got.text();

    std::this_thread::sleep_for(1100ms);  // a duration of at least one second
    auto ended = api.call("POST", session_path(s, "end"), api.doctor_b, {{"notes", "Follow up in two weeks."}});
    ASSERT_EQ(ended.status, 200) << ended.text();
    EXPECT_EQ(ended.body.value("status", ""), "completed");
    EXPECT_EQ(ended.body.value("notes", ""), "Follow up in two weeks.");
    ASSERT_TRUE(ended.body["duration_seconds"].is_number_integer()) << ended.text();
    EXPECT_GE(ended.body["duration_seconds"].get<long>(), 1);
    EXPECT_LT(ended.body["duration_seconds"].get<long>(), 600);
    EXPECT_TRUE(ended.body["ended_at"].is_string());

    got = api.call("GET", session_path(s), api.doctor_b);
    for (const auto& p : got.body["participants"]) EXPECT_TRUE(p["left_at"].is_string()) << got.text();
    auto completed = api.call("GET", list + "&status=completed", api.doctor_b);
    EXPECT_TRUE(lists_id(completed.body["sessions"], s.id)) << completed.text();

    EXPECT_TRUE(is_error(api.call("GET", session_path(s, "recording"), api.doctor_b), 404, "recording_not_available"));
}

TEST_F(ApiTest, CancelEndsAScheduledOrWaitingSession) {
    const Session scheduled = api.scheduled_session();
    auto r = api.call("POST", session_path(scheduled, "cancel"), api.doctor_b, {{"reason", "patient called in sick"}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body.value("status", ""), "cancelled");
    EXPECT_EQ(r.body.value("end_reason", ""), "patient called in sick");
    EXPECT_TRUE(r.body["ended_at"].is_string());

    const Session waiting = api.waiting_session();
    r = api.call("POST", session_path(waiting, "cancel"), api.admin);  // no body at all
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body.value("status", ""), "cancelled");
    EXPECT_TRUE(is_error(api.call("POST", session_path(waiting, "join"), waiting.patient_token), 401, "session_ended"));
}

// ---- sessions: refusals ----

TEST_F(ApiTest, PatientTokenStopsWorkingWhenTheSessionEnds) {
    const Session s = api.in_progress_session();
    ASSERT_EQ(api.call("POST", session_path(s, "join"), s.patient_token).status, 200) << "rejoin while in progress";
    ASSERT_EQ(api.call("POST", session_path(s, "end"), api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", session_path(s, "join"), s.patient_token), 401, "session_ended"));
    // A fresh token for a closed session is refused too.
    EXPECT_TRUE(is_error(api.call("POST", session_path(s, "token"), api.admin,
                                  {{"user_id", s.patient_id}, {"user_type", "patient"}}),
                         409, "session_closed"));
}

TEST_F(ApiTest, APatientsLinkIsCheckedBeforeAnythingElseAndADeadOneSaysWhy) {
    const Session s = api.scheduled_session();
    auto ok = api.call("GET", "/api/patient/link", s.patient_token);
    ASSERT_EQ(ok.status, 200) << ok.text();
    EXPECT_EQ(ok.body.value("status", ""), "scheduled");
    EXPECT_EQ(ok.body.value("starts_at", ""), s.starts_at);
    EXPECT_TRUE(ok.body["doctor"].is_string()) << ok.text();
    EXPECT_FALSE(ok.body.contains("patient")) << "the link's answer names no patient";

    std::string tampered = s.patient_token;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(api.call("GET", "/api/patient/link", tampered).status, 401);
    EXPECT_EQ(api.call("GET", "/api/patient/link", "").status, 401);
    EXPECT_TRUE(is_error(api.call("GET", "/api/patient/link", api.doctor_b), 403, "forbidden")) << "patients only";

    ASSERT_EQ(api.call("POST", session_path(s, "cancel"), api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("GET", "/api/patient/link", s.patient_token), 410, "session_cancelled"));

    const Session done = api.in_progress_session();
    ASSERT_EQ(api.call("POST", session_path(done, "end"), api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("GET", "/api/patient/link", done.patient_token), 410, "session_ended"));
}

TEST_F(ApiTest, PatientTokenForOneSessionCannotJoinAnother) {
    const Session a = api.scheduled_session();
    const Session b = api.scheduled_session(a.patient_id);  // the same patient, another session
    EXPECT_TRUE(is_error(api.call("POST", session_path(b, "join"), a.patient_token), 403, "forbidden"));
    EXPECT_EQ(api.session_status(b.id), "scheduled");
    // A token naming the right session but another identity is refused as well.
    const std::string impostor = api.token("patient", api.patients[0] == a.patient_id ? api.patients[1] : api.patients[0], a.id);
    EXPECT_TRUE(is_error(api.call("POST", session_path(a, "join"), impostor), 403, "forbidden"));
    EXPECT_EQ(api.session_status(a.id), "scheduled");
}

TEST_F(ApiTest, IllegalTransitionsAre409InvalidTransitionWithTheReason) {
    const Session scheduled = api.scheduled_session();
    const Session waiting = api.waiting_session();
    const Session in_progress = api.in_progress_session();
    struct Case { const Session* s; const char* action; const char* status; const char* reason_part; };
    const Case cases[] = {
        {&scheduled, "admit", "scheduled", "only a waiting patient can be admitted"},
        {&scheduled, "end", "scheduled", "only a call in progress can be ended"},
        {&waiting, "end", "waiting", "only a call in progress can be ended"},
        {&in_progress, "cancel", "in-progress", "a call in progress is ended, not cancelled"},
    };
    for (const auto& c : cases) {
        auto r = api.call("POST", session_path(*c.s, c.action), api.doctor_b);
        EXPECT_TRUE(is_error(r, 409, "invalid_transition")) << c.action << " a " << c.status << " session";
        EXPECT_NE(r.body["error"].value("message", "").find(c.reason_part), std::string::npos) << r.text();
        EXPECT_EQ(api.session_status(c.s->id), c.status) << "the refused " << c.action << " changed the session";
    }
    {
        // Admit on a call in progress lets in whoever waits again; with nobody waiting, 409.
        auto r = api.call("POST", session_path(in_progress, "admit"), api.doctor_b);
        EXPECT_TRUE(is_error(r, 409, "nobody_waiting")) << r.text();
        EXPECT_EQ(api.session_status(in_progress.id), "in-progress");
    }
    ASSERT_EQ(api.call("POST", session_path(in_progress, "end"), api.doctor_b).status, 200);
    for (const char* action : {"admit", "end", "cancel"}) {
        auto r = api.call("POST", session_path(in_progress, action), api.admin);
        EXPECT_TRUE(is_error(r, 409, "invalid_transition")) << action << " a completed session";
        EXPECT_NE(r.body["error"].value("message", "").find("already ended"), std::string::npos) << r.text();
    }
}

TEST_F(ApiTest, StartOpensTheSessionPreparedAtBookingAndACallInProgressIs409) {
    const json appt = api.book();
    ASSERT_TRUE(appt["video_session"].is_object()) << appt.dump();
    const std::string prepared = appt["video_session"]["session_id"];
    const std::string short_url = appt["video_session"]["patient_short_url"];
    EXPECT_NE(short_url.find("/j/"), std::string::npos) << appt.dump();
    const Session s = api.create_session(appt);
    EXPECT_EQ(s.id, prepared) << "Start opens the prepared session, it does not make another";
    EXPECT_EQ(s.created["prepared"], true);
    const json body{{"appointment_id", s.appointment_id}, {"duration_minutes", 30}};
    auto again = api.call("POST", kSessions, api.admin, body);
    EXPECT_EQ(again.status, 200) << again.text();
    EXPECT_EQ(again.body["session_id"], prepared);
    ASSERT_EQ(api.call("POST", session_path(s, "join"), s.patient_token).status, 200);
    EXPECT_EQ(api.call("POST", kSessions, api.doctor_b, body).body["session_id"], prepared) << "waiting: still the same";
    ASSERT_EQ(api.call("POST", session_path(s, "admit"), api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", kSessions, api.doctor_b, body), 409, "session_exists"));
    EXPECT_EQ(api.query_column("SELECT count(*) FROM video_consultation_sessions WHERE appointment_id = '" +
                               s.appointment_id + "'"), std::vector<std::string>{"1"});
    // Once the call is over the appointment is completed: no new session for it either.
    ASSERT_EQ(api.call("POST", session_path(s, "end"), api.doctor_b).status, 200);
    EXPECT_TRUE(is_error(api.call("POST", kSessions, api.doctor_b, body), 409, "appointment_closed"));
    // An in-person appointment has no video session.
    auto in_person = api.call("POST", kAppointments, api.admin,
                              api.appointment_body(api.next_free_slot(), api.next_patient(), "in-person"));
    ASSERT_EQ(in_person.status, 201) << in_person.text();
    EXPECT_TRUE(in_person.body["video_session"].is_null()) << in_person.text();
    EXPECT_TRUE(is_error(api.call("POST", kSessions, api.doctor_b,
                                  {{"appointment_id", in_person.body["id"]}, {"duration_minutes", 30}}),
                         422, "not_a_video_appointment", "appointment_id"));
}

// ---- timings, availability, appointments ----

TEST_F(ApiTest, TimingsAreListedCreatedUpdatedAndDeleted) {
    auto list = api.call("GET", kTimings + "?doctor_id=" + kDoctorB, api.doctor_b);
    ASSERT_EQ(list.status, 200) << list.text();
    ASSERT_EQ(list.body["timings"].size(), 7u) << list.text();
    for (const auto& t : list.body["timings"]) {
        EXPECT_EQ(t.value("start_time", ""), "00:00");
        EXPECT_EQ(t.value("end_time", ""), "23:30");
        EXPECT_EQ(t.value("is_active", false), true);
    }

    // Sunday is not among doctor_a's demo days (Monday-Friday).
    json body{{"doctor_id", kDoctorA}, {"day_of_week", 0}, {"start_time", "08:00"}, {"end_time", "12:00"},
              {"slot_duration_minutes", 20}};
    auto created = api.call("POST", kTimings, api.admin, body);
    ASSERT_EQ(created.status, 201) << created.text();
    const std::string id = created.body.value("id", "");
    EXPECT_TRUE(std::regex_match(id, kUuid)) << created.text();
    EXPECT_EQ(created.body.value("slot_duration_minutes", 0), 20);
    EXPECT_EQ(created.body.value("duration_minutes", 0), 20) << "the specification's name too";
    // The specification's name alone is taken.
    json spec_named{{"doctor_id", kDoctorA}, {"day_of_week", 6}, {"start_time", "08:00"}, {"end_time", "09:00"},
                    {"duration_minutes", 15}};
    auto by_spec = api.call("POST", kTimings, api.admin, spec_named);
    ASSERT_EQ(by_spec.status, 201) << by_spec.text();
    EXPECT_EQ(by_spec.body.value("duration_minutes", 0), 15);

    body["start_time"] = "13:00";
    body["end_time"] = "15:00";
    body["is_active"] = false;
    auto updated = api.call("PUT", kTimings + "/" + id, api.admin, body);
    ASSERT_EQ(updated.status, 200) << updated.text();
    EXPECT_EQ(updated.body.value("start_time", ""), "13:00");
    EXPECT_EQ(updated.body.value("is_active", true), false);
    auto mine = api.call("GET", kTimings, api.doctor_a);  // a doctor without doctor_id: their own
    ASSERT_EQ(mine.status, 200);
    bool seen = false;
    for (const auto& t : mine.body["timings"]) {
        EXPECT_EQ(t.value("doctor_id", ""), kDoctorA);
        if (t.value("id", "") == id) seen = t.value("end_time", "") == "15:00";
    }
    EXPECT_TRUE(seen) << mine.text();

    auto deleted = api.call("DELETE", kTimings + "/" + id, api.admin);
    EXPECT_EQ(deleted.status, 204) << deleted.text();
    EXPECT_FALSE(lists_id(api.call("GET", kTimings, api.admin).body["timings"], id));
    EXPECT_TRUE(is_error(api.call("DELETE", kTimings + "/" + id, api.admin), 404, "timing_not_found"));
}

// One keep-alive connection, written to by hand: a 204 must leave it open for the next
// request (it used to be closed after every 204, and a client that had already sent its
// next request on it saw "other side closed").
class RawConnection {
public:
    explicit RawConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(std::uint16_t(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            setup_failed("cannot connect to consultd");
    }
    ~RawConnection() { if (fd_ >= 0) ::close(fd_); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends one request; returns the response head and whatever body its Content-Length
    // announces, or "" when the connection closed or nothing came within 3 s.
    std::string exchange(const std::string& request) {
        if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) return "";
        std::string in;
        std::size_t want = std::string::npos;
        while (want == std::string::npos || in.size() < want) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 3000) != 1) return "";
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return "";
            in.append(buf, std::size_t(n));
            if (const auto end = in.find("\r\n\r\n"); want == std::string::npos && end != std::string::npos) {
                std::smatch m;
                const std::string head = in.substr(0, end);
                const bool sized = std::regex_search(head, m, std::regex("\r\nContent-Length: (\\d+)", std::regex::icase));
                want = end + 4 + (sized ? std::stoul(m[1]) : 0);
            }
        }
        return in;
    }

private:
    int fd_;
};

TEST_F(ApiTest, A204AnswerKeepsTheConnectionOpenForTheNextRequest) {
    json body{{"doctor_id", kDoctorA}, {"day_of_week", 0}, {"start_time", "06:00"}, {"end_time", "07:00"},
              {"slot_duration_minutes", 20}};
    auto created = api.call("POST", kTimings, api.admin, body);
    ASSERT_EQ(created.status, 201) << created.text();

    RawConnection conn(api.proc().port());
    const std::string deleted = conn.exchange("DELETE " + kTimings + "/" + created.body.value("id", "") +
                                              " HTTP/1.1\r\nHost: consultd\r\n" + bearer(api.admin) + "\r\n\r\n");
    ASSERT_EQ(deleted.rfind("HTTP/1.1 204", 0), 0u) << deleted;
    EXPECT_EQ(deleted.find("\r\nContent-Type:"), std::string::npos) << "a 204 has no body to describe:\n" << deleted;
    const std::string next = conn.exchange("GET /healthz HTTP/1.1\r\nHost: consultd\r\n\r\n");
    EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u) << "the connection did not survive the 204: '" << next << "'";
}

TEST_F(ApiTest, AvailabilityListsFreeSlotsAndABookingTakesOneAway) {
    const json slot = api.next_free_slot();
    const std::string day = local_day_of(slot["starts_at"]);
    const std::string path = kAvailability + "?doctor_id=" + kDoctorB + "&date=" + day;
    auto before = api.call("GET", path, api.doctor_b);
    ASSERT_EQ(before.status, 200) << before.text();
    EXPECT_EQ(before.body.value("doctor_id", ""), kDoctorB);
    EXPECT_EQ(before.body.value("date", ""), day);
    std::time_t previous = 0;
    for (const auto& s : before.body["slots"]) {
        EXPECT_EQ(s.value("duration_minutes", 0), 30);
        const std::time_t t = parse_utc(s.value("starts_at", ""));
        EXPECT_EQ(local_day_of(s.value("starts_at", "")), day);
        EXPECT_GT(t, previous) << "slots out of order";
        previous = t;
    }
    ASSERT_TRUE(std::find(before.body["slots"].begin(), before.body["slots"].end(), slot) != before.body["slots"].end());

    ASSERT_EQ(api.call("POST", kAppointments, api.doctor_b, api.appointment_body(slot, api.next_patient())).status, 201);
    auto after = api.call("GET", path, api.admin);
    ASSERT_EQ(after.status, 200);
    EXPECT_EQ(after.body["slots"].size() + 1, before.body["slots"].size());
    EXPECT_TRUE(std::find(after.body["slots"].begin(), after.body["slots"].end(), slot) == after.body["slots"].end());
}

TEST_F(ApiTest, AppointmentsAreBookedAndListedByDateAndDoctor) {
    const json slot = api.next_free_slot();
    const std::string patient = api.next_patient();
    json body = api.appointment_body(slot, patient, "hybrid");
    body["reason"] = "check-up";
    auto booked = api.call("POST", kAppointments, api.admin, body);
    ASSERT_EQ(booked.status, 201) << booked.text();
    const json& a = booked.body;
    EXPECT_TRUE(std::regex_match(a.value("id", ""), kUuid));
    EXPECT_EQ(a.value("doctor_id", ""), kDoctorB);
    EXPECT_EQ(a.value("patient_id", ""), patient);
    EXPECT_EQ(a.value("clinic_id", ""), kClinic);
    EXPECT_EQ(parse_utc(a.value("starts_at", "")), parse_utc(slot["starts_at"]));
    EXPECT_EQ(a.value("consultation_type", ""), "hybrid");
    EXPECT_EQ(a.value("status", ""), "scheduled");
    EXPECT_EQ(a.value("reason", ""), "check-up");
    EXPECT_TRUE(a["video_session_id"].is_null());

    const std::string day = local_day_of(slot["starts_at"]);
    auto listed = api.call("GET", kAppointments + "?date=" + day + "&doctor_id=" + kDoctorB, api.doctor_b);
    ASSERT_EQ(listed.status, 200) << listed.text();
    EXPECT_TRUE(lists_id(listed.body["appointments"], a["id"]));
    for (const auto& row : listed.body["appointments"]) {
        EXPECT_EQ(row.value("doctor_id", ""), kDoctorB);
        EXPECT_EQ(local_day_of(row.value("starts_at", "")), day);
    }
    auto other_doctor = api.call("GET", kAppointments + "?doctor_id=" + kDoctorA, api.admin);
    EXPECT_FALSE(lists_id(other_doctor.body["appointments"], a["id"]));
    auto own = api.call("GET", kAppointments, api.doctor_b);  // a doctor's list is their own
    ASSERT_EQ(own.status, 200);
    EXPECT_TRUE(lists_id(own.body["appointments"], a["id"]));
    for (const auto& row : own.body["appointments"]) EXPECT_EQ(row.value("doctor_id", ""), kDoctorB);

    // The slot is taken now: the same booking again is a conflict.
    EXPECT_TRUE(is_error(api.call("POST", kAppointments, api.admin, api.appointment_body(slot, api.next_patient())),
                         409, "slot_unavailable"));
}

TEST_F(ApiTest, TwoConcurrentBookingsOfOneSlotGiveExactlyOne201AndOne409) {
    for (int round = 0; round < 4; ++round) {
        const json slot = api.next_free_slot();
        const json bodies[2] = {api.appointment_body(slot, api.patients[0]), api.appointment_body(slot, api.patients[1])};
        auto replies = both_at_once([&](int i) { return api.call("POST", kAppointments, api.admin, bodies[i]); });
        const int winner = replies[0].status == 201 ? 0 : 1;
        EXPECT_EQ(replies[winner].status, 201) << "round " << round << ": " << replies[0].text() << " | " << replies[1].text();
        EXPECT_TRUE(is_error(replies[1 - winner], 409, "slot_unavailable")) << "round " << round;

        auto listed = api.call("GET", kAppointments + "?doctor_id=" + kDoctorB + "&date=" + local_day_of(slot["starts_at"]),
                               api.admin);
        int at_slot = 0;
        for (const auto& a : listed.body["appointments"])
            at_slot += parse_utc(a.value("starts_at", "")) == parse_utc(slot["starts_at"]) ? 1 : 0;
        EXPECT_EQ(at_slot, 1) << "round " << round << ": appointments at " << slot["starts_at"];
    }
    EXPECT_TRUE(api.healthy());
}

TEST_F(ApiTest, AChunkedBodyUnderTheLimitArrivesWhole) {
    const json timing{{"doctor_id", "5d0c1a1e-0000-4000-8000-00000000d0c1"}, {"day_of_week", 0},
                      {"start_time", "09:00"}, {"end_time", "10:00"}, {"slot_duration_minutes", 20}};
    auto r = api.send("POST", kTimings, {bearer(api.admin), kJsonType, "Transfer-Encoding: chunked"}, timing.dump());
    ASSERT_EQ(r.status, 201) << r.text();
    EXPECT_EQ(r.body.value("slot_duration_minutes", 0), 20);
}

// ---- logs ----

TEST_F(ApiTest, NoTokenPatientNameOrPhoneNumberReachesTheLog) {
    const Session s = api.waiting_session();
    ASSERT_EQ(api.call("POST", session_path(s, "admit"), api.doctor_b).status, 200);
    ASSERT_EQ(api.call("POST", session_path(s, "end"), api.doctor_b, {{"notes", "follow up in 2 weeks"}}).status, 200);
    api.call("POST", session_path(s, "join"), s.patient_token);                 // refused: ended
    api.call("GET", session_path(s, ""), s.patient_token + "tampered");         // refused: bad token
    const std::string log = api.proc().stderr_text();
    ASSERT_FALSE(log.empty()) << "the daemon logged nothing at all";
    for (const std::string& secret : {s.patient_token, s.doctor_token, api.doctor_b, api.admin})
        EXPECT_EQ(log.find(secret.substr(secret.rfind('.') + 1)), std::string::npos) << "a token signature is in the log";
    for (const char* personal : {"Alex Demo", "Sam Example", "Jordan Sample", "Riley Test", "+1555010", "follow up"})
        EXPECT_EQ(log.find(personal), std::string::npos) << personal << " is in the log";
}

}  // namespace
}  // namespace consult::test::api
