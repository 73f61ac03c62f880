// Shared support for the REST API tests: a real `consultd --demo` with its own state
// directory, tokens minted by `consultctl`, and helpers that book future video slots and
// drive sessions into a given state over HTTP.
//
// Independent of the wall clock and weekday: doctor_b's demo timings are replaced by
// seven all-day timings (00:00-23:30, 30-minute slots), and every appointment a test uses
// is booked by the helper in a slot that starts in the future, so the sweeper (no-shows,
// calls past their time) never touches it while the test runs.
#pragma once

#include "consultd_process.hpp"

#include "appliance/tokens/token_service.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>
#include <array>
#include <functional>
#include <latch>
#include <set>
#include <stdexcept>

namespace consult::test::api {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kClinic = "5d0c1a1e-0000-4000-8000-000000000001";
inline constexpr const char* kDoctorA = "5d0c1a1e-0000-4000-8000-00000000d0c1";
inline constexpr const char* kDoctorB = "5d0c1a1e-0000-4000-8000-00000000d0c2";
inline constexpr const char* kAdminId = "it-desk-admin";
inline constexpr const char* kUnknownId = "0badc0de-0000-4000-8000-000000000000";
inline constexpr const char* kJsonType = "Content-Type: application/json";

inline const std::string kSessions = "/api/video-consultations/sessions";
inline const std::string kTimings = "/api/video-consultations/timings";
inline const std::string kAvailability = "/api/video-consultations/availability";
inline const std::string kAppointments = "/api/appointments";

// A step a test depends on failed: the test stops with this message.
[[noreturn]] inline void setup_failed(const std::string& what) { throw std::runtime_error(what); }

inline std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }

// "YYYY-MM-DD" of the local day `days_ahead` days after today.
inline std::string local_day(int days_ahead = 0) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    tm.tm_mday += days_ahead;
    tm.tm_hour = 12;
    tm.tm_isdst = -1;
    std::time_t noon = std::mktime(&tm);
    localtime_r(&noon, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

// "2026-05-01T09:30:00.000Z" (or without fraction) -> seconds since the epoch; -1 if not that shape.
inline std::time_t parse_utc(const std::string& iso) {
    std::tm tm{};
    if (std::sscanf(iso.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec) != 6 || iso.back() != 'Z')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

inline std::string iso_utc(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

inline std::string local_day_of(const std::string& iso) {
    std::time_t t = parse_utc(iso);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

struct Reply {
    long status = 0;
    json body;  // null when the body is empty or not JSON
    HttpResponse raw;
    std::string text() const { return std::to_string(status) + " " + raw.body + (raw.error.empty() ? "" : " " + raw.error); }
};

inline Reply to_reply(HttpResponse r) {
    Reply out;
    out.status = r.status;
    if (!r.body.empty()) out.body = json::parse(r.body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    out.raw = std::move(r);
    return out;
}

// Two requests released together from two threads (a latch), for races; `meanwhile` runs
// on the test's thread while they are in flight.
inline std::array<Reply, 2> both_at_once(const std::function<Reply(int)>& request,
                                         const std::function<void()>& meanwhile = {}) {
    std::array<Reply, 2> replies;
    std::latch go(3);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i)
        threads.emplace_back([&, i] {
            go.arrive_and_wait();
            replies[i] = request(i);
        });
    go.arrive_and_wait();
    if (meanwhile) meanwhile();
    for (auto& t : threads) t.join();
    return replies;
}

// The one error shape: {"error":{"code","message"[,"field"]}} with the given status and code
// (and field, when given); 401 carries WWW-Authenticate, 429 carries Retry-After.
inline ::testing::AssertionResult is_error(const Reply& r, long status, const std::string& code,
                                           const std::string& field = "") {
    auto fail = [&](const std::string& why) { return ::testing::AssertionFailure() << why << "; got " << r.text(); };
    if (r.status != status) return fail("status is not " + std::to_string(status));
    if (r.raw.header("content-type").value_or("").rfind("application/json", 0) != 0) return fail("not JSON");
    const json& b = r.body;
    if (!b.is_object() || b.size() != 1 || !b.contains("error") || !b["error"].is_object())
        return fail("body is not {\"error\":{...}}");
    const json& e = b["error"];
    for (const auto& [k, v] : e.items())
        if (k != "code" && k != "message" && k != "field") return fail("unexpected key " + k);
    if (!e.contains("code") || !e["code"].is_string() || e["code"] != code) return fail("code is not " + code);
    if (!e.contains("message") || !e["message"].is_string() || e["message"].get<std::string>().empty())
        return fail("no message");
    if (!field.empty() && e.value("field", "") != field) return fail("field is not " + field);
    if (status == 401 && r.raw.header("www-authenticate").value_or("").rfind("Bearer", 0) != 0)
        return fail("401 without WWW-Authenticate: Bearer");
    if (status == 429 && !r.raw.header("retry-after")) return fail("429 without Retry-After");
    return ::testing::AssertionSuccess();
}

// A session made by the helpers, with what the test needs to act on it.
struct Session {
    std::string id, room, appointment_id, patient_id, starts_at;
    std::string patient_token;  // from the invite URL (#t=...)
    std::string doctor_token;   // from the create response
    json created;               // the whole 201 body
};

// A small tmpfs mounted on `dir` for as long as this lives (needs root): a disk that
// fills. `error` says why the mount failed.
class SmallDisk {
public:
    SmallDisk(const fs::path& dir, const std::string& size) : dir_(dir) {
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) != 0)
            error = std::strerror(errno);
    }
    ~SmallDisk() {
        if (error.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    SmallDisk(const SmallDisk&) = delete;
    SmallDisk& operator=(const SmallDisk&) = delete;
    // Something else takes `mib` MiB of the disk (or what is left of it).
    void take(int mib) const {
        std::ofstream filler(dir_ / "filler", std::ios::binary);
        const std::string block(1 << 20, '\0');
        for (int i = 0; i < mib && filler.write(block.data(), block.size()); ++i) {}
    }
    std::string error;

private:
    fs::path dir_;
};

inline const std::vector<std::string> kFastRateLimit = {"--set", "http.rate_limit_per_minute=1000000", "--set",
                                                        "http.rate_limit_burst=100000"};

// consultd --demo on a free port, with tokens and helpers. Setup steps throw on failure.
class ApiDaemon {
public:
    explicit ApiDaemon(const std::vector<std::string>& extra_args = kFastRateLimit, std::vector<std::string> wrapper = {})
        : proc_(options(extra_args, std::move(wrapper))) {}

    void start() {
        if (!proc_.start()) setup_failed("consultd did not start: " + proc_.start_error());
        if (!proc_.wait_for_healthz(30)) setup_failed("consultd did not answer /healthz:\n" + proc_.stderr_text());
        write_file(proc_.temp_dir() / "ctl.conf", "");
        admin = token("admin", kAdminId);
        doctor_a = token("doctor", kDoctorA);
        doctor_b = token("doctor", kDoctorB);
        patients = query_column("SELECT id FROM patients WHERE clinic_id = '" + std::string(kClinic) + "' ORDER BY id");
        if (patients.size() < 2) setup_failed("the demo has fewer than two patients");
        replace_doctor_b_timings();
    }

    // Calls need the probe's encoder: waits until /healthz names it.
    void wait_for_media() {
        for (int i = 0; i < 300; ++i) {
            auto h = call("GET", "/healthz", "");
            if (h.body.is_object() && h.body["encoder"].is_string() && h.body["encoder"] != "probing") return;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    void restart() {
        if (!proc_.restart()) setup_failed("consultd did not start again: " + proc_.start_error());
        if (!proc_.wait_for_healthz(30)) setup_failed("consultd did not answer /healthz after a restart:\n" + proc_.stderr_text());
    }

    ConsultdProcess& proc() { return proc_; }
    fs::path db_path() const { return proc_.state_dir() / "consult.db"; }

    // `consultctl token` signed with this daemon's key.
    std::string token(const std::string& role, const std::string& identity, const std::string& session = "") const {
        std::vector<std::string> argv{consultctl_bin(), "--config", (proc_.temp_dir() / "ctl.conf").string(),
                                      "--state-dir", proc_.state_dir().string(), "token", "--role", role,
                                      "--identity", identity};
        if (!session.empty()) argv.insert(argv.end(), {"--session", session});
        auto r = run_command(argv, 30s);
        std::string out = r.out;
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        if (r.code() != 0 || out.empty()) setup_failed("consultctl token failed: " + r.err);
        return out;
    }

    tokens::TokenService verifier() const {
        std::string key = read_file(proc_.state_dir() / "credentials" / "token-signing-key");
        while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
        return tokens::TokenService(key);
    }

    // Any request; `headers` are sent as given.
    Reply send(const std::string& method, const std::string& path, const std::vector<std::string>& headers,
               const std::string& body = "") const {
        return to_reply(proc_.http(method, path, body, headers, 10000));
    }

    // A request with a bearer token (none when empty) and, unless null, a JSON body.
    Reply call(const std::string& method, const std::string& path, const std::string& token,
               const json& body = nullptr) const {
        std::vector<std::string> headers;
        if (!token.empty()) headers.push_back(bearer(token));
        if (body.is_null()) return send(method, path, headers);
        headers.push_back(kJsonType);
        return send(method, path, headers, body.dump());
    }

    bool healthy() const { return proc_.http("GET", "/healthz", "", {}, 5000).status == 200; }

    // Rows of a read-only query on consult.db (NULL as "").
    std::vector<std::vector<std::string>> query_rows(const std::string& sql) const {
        sqlite3* db = nullptr;
        if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            sqlite3_close(db);
            setup_failed("cannot open " + db_path().string());
        }
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            std::string e = sqlite3_errmsg(db);
            sqlite3_close(db);
            setup_failed(sql + ": " + e);
        }
        std::vector<std::vector<std::string>> out;
        while (sqlite3_step(st) == SQLITE_ROW) {
            auto& row = out.emplace_back();
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                auto* text = sqlite3_column_text(st, i);
                row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
            }
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }

    std::vector<std::string> query_column(const std::string& sql) const {
        std::vector<std::string> out;
        for (auto& row : query_rows(sql)) out.push_back(row.at(0));
        return out;
    }

    std::string next_patient() { return patients[patient_turn_++ % patients.size()]; }

    // The first free slot of doctor_b that starts at least two minutes from now (today first).
    json next_free_slot() const {
        const std::time_t soon = std::time(nullptr) + 120;
        for (int day = 0; day < 7; ++day) {
            auto r = call("GET", kAvailability + "?doctor_id=" + kDoctorB + "&date=" + local_day(day), admin);
            if (r.status != 200) setup_failed("availability: " + r.text());
            for (const auto& slot : r.body["slots"])
                if (parse_utc(slot["starts_at"].get<std::string>()) >= soon) return slot;
        }
        setup_failed("doctor_b has no free slot in the coming week");
    }

    json appointment_body(const json& slot, const std::string& patient, const std::string& type = "video") const {
        return {{"doctor_id", kDoctorB}, {"patient_id", patient}, {"starts_at", slot["starts_at"]},
                {"duration_minutes", slot["duration_minutes"]}, {"consultation_type", type}};
    }

    // A video appointment of doctor_b in the next free future slot.
    json book(const std::string& patient = "") {
        auto r = call("POST", kAppointments, admin,
                      appointment_body(next_free_slot(), patient.empty() ? next_patient() : patient));
        if (r.status != 201) setup_failed("booking: " + r.text());
        return r.body;
    }

    // A video appointment of doctor_b booked before this box (the demo's): no session
    // yet, so Start makes one (201).
    json unprepared_appointment() {
        auto rows = query_rows("SELECT id, patient_id, starts_at FROM appointments WHERE doctor_id = '" +
                               std::string(kDoctorB) + "' AND consultation_type = 'video' AND status = 'scheduled' "
                               "AND video_session_id IS NULL AND starts_at > '" + iso_utc(std::time(nullptr)) +
                               "' ORDER BY starts_at LIMIT 1 OFFSET " + std::to_string(unprepared_turn_++));
        if (rows.empty()) setup_failed("the demo has no appointment without a session left");
        return {{"id", rows[0][0]}, {"patient_id", rows[0][1]}, {"starts_at", rows[0][2]}};
    }

    Session create_session(const json& appointment) const {
        // Booked through the API, a video appointment has its session already: Start opens it (200).
        auto r = call("POST", kSessions, doctor_b, {{"appointment_id", appointment["id"]}, {"duration_minutes", 30}});
        if (r.status != 200 && r.status != 201) setup_failed("starting a session: " + r.text());
        Session s;
        s.id = r.body.value("session_id", "");
        s.room = r.body.value("room_name", "");
        s.appointment_id = appointment["id"];
        s.patient_id = appointment["patient_id"];
        s.starts_at = appointment["starts_at"];
        s.doctor_token = r.body.value("doctor_token", "");
        const std::string url = r.body.value("patient_invite_url", "");
        if (auto at = url.find("#t="); at != std::string::npos) s.patient_token = url.substr(at + 3);
        s.created = r.body;
        return s;
    }

    Session scheduled_session(const std::string& patient = "") { return create_session(book(patient)); }

    Session waiting_session() {
        Session s = scheduled_session();
        auto r = call("POST", kSessions + "/" + s.id + "/join", s.patient_token);
        if (r.status != 200) setup_failed("patient join: " + r.text());
        return s;
    }

    Session in_progress_session() {
        Session s = waiting_session();
        auto r = call("POST", kSessions + "/" + s.id + "/admit", doctor_b);
        if (r.status != 200) setup_failed("admit: " + r.text());
        return s;
    }

    std::string session_status(const std::string& id) const {
        auto r = call("GET", kSessions + "/" + id, admin);
        return r.status == 200 ? r.body.value("status", "?") : "HTTP " + std::to_string(r.status);
    }

    // Ids and statuses of doctor_b's sessions, as the list route reports them.
    std::set<std::string> doctor_b_sessions() const {
        auto r = call("GET", kSessions + "?doctor_id=" + kDoctorB, admin);
        if (r.status != 200) setup_failed("listing sessions: " + r.text());
        std::set<std::string> out;
        for (const auto& s : r.body["sessions"]) out.insert(s["id"].get<std::string>() + " " + s["status"].get<std::string>());
        return out;
    }

    // doctor_b's seven all-day timings (day_of_week 0..6), as created.
    const std::vector<json>& all_day_timings() const { return all_day_timings_; }

    std::string admin, doctor_a, doctor_b;
    std::vector<std::string> patients;
    int unprepared_turn_ = 0;

private:
    static ConsultdOptions options(const std::vector<std::string>& extra, std::vector<std::string> wrapper) {
        ConsultdOptions o;
        o.wrapper = std::move(wrapper);
        o.args = {"--demo"};
        o.args.insert(o.args.end(), extra.begin(), extra.end());
        return o;
    }

    void replace_doctor_b_timings() {
        auto list = call("GET", kTimings + "?doctor_id=" + kDoctorB, admin);
        if (list.status != 200) setup_failed("listing timings: " + list.text());
        for (const auto& t : list.body["timings"]) {
            auto del = call("DELETE", kTimings + "/" + t["id"].get<std::string>(), admin);
            if (del.status != 204) setup_failed("deleting a timing: " + del.text());
        }
        for (int day = 0; day <= 6; ++day) {
            auto r = call("POST", kTimings, admin,
                          {{"doctor_id", kDoctorB}, {"day_of_week", day}, {"start_time", "00:00"},
                           {"end_time", "23:30"}, {"slot_duration_minutes", 30}});
            if (r.status != 201) setup_failed("creating a timing: " + r.text());
            all_day_timings_.push_back(r.body);
        }
    }

    ConsultdProcess proc_;
    std::vector<json> all_day_timings_;
    size_t patient_turn_ = 0;
};

// One daemon per test.
class ApiTest : public ::testing::Test {
protected:
    void SetUp() override { api.start(); }
    ApiDaemon api;
};

}  // namespace consult::test::api
