// A clinic in the PostgREST stand-in and a consultd paired with it: the fixture for the
// cloud sync's integration tests. The state dir outlives a consultd, so a test can kill
// and restart it.
#pragma once

#include "consultd_process.hpp"
#include "postgrest_standin.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

namespace consult::test::cloud {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kClinic = "c1a1c000-0000-4000-8000-000000000001";
inline constexpr const char* kOtherClinic = "c1a1c000-0000-4000-8000-000000000002";
inline constexpr const char* kDoctor = "d0c70000-0000-4000-8000-000000000001";
inline constexpr const char* kReceptionist = "d0c70000-0000-4000-8000-0000000000f1";
inline const std::string kSessions = "/api/video-consultations/sessions";

inline std::string appointment_id(int i) {
    char b[40];
    std::snprintf(b, sizeof b, "a0000000-0000-4000-8000-%012x", i);
    return b;
}
inline std::string patient_id(int i) {
    char b[40];
    std::snprintf(b, sizeof b, "b0000000-0000-4000-8000-%012x", i);
    return b;
}

class CloudFixture : public ::testing::Test {
protected:
    // The clinic, one doctor and a receptionist, three patients and `appointments` future video appointments
    // 30 minutes apart (plus one clinic the device must never see).
    void seed(int appointments) {
        json patients = json::array(), appts = json::array();
        for (int i = 0; i < 3; ++i)
            patients.push_back({{"id", patient_id(i)}, {"clinic_id", kClinic}, {"full_name", "Patient " + std::to_string(i)},
                                {"phone", "+1555010000" + std::to_string(i)}, {"email", nullptr}});
        const std::time_t base = std::time(nullptr) / 1800 * 1800 + 2 * 86400;
        for (int i = 0; i < appointments; ++i) {
            char starts[32];
            std::time_t t = base + std::time_t(i) * 1800;
            std::strftime(starts, sizeof starts, "%Y-%m-%dT%H:%M:%S+00:00", std::gmtime(&t));
            appts.push_back({{"id", appointment_id(i)}, {"clinic_id", kClinic}, {"doctor_id", kDoctor},
                             {"patient_id", patient_id(i % 3)}, {"starts_at", starts}, {"duration_minutes", 30},
                             {"consultation_type", "video"}, {"status", "scheduled"}});
        }
        cloud.control("seed", {{"clinics", {{{"id", kClinic}, {"name", "North Clinic"}, {"timezone", "UTC"}},
                                            {{"id", kOtherClinic}, {"name", "South Clinic"}, {"timezone", "UTC"}}}},
                               // The clinic system's profiles: doctors and staff (the box takes the doctors).
                               {"profiles", {{{"id", kDoctor}, {"clinic_id", kClinic}, {"full_name", "Dr North"},
                                              {"role", "doctor"}, {"is_active", true}},
                                             {{"id", kReceptionist}, {"clinic_id", kClinic}, {"full_name", "Desk North"},
                                              {"role", "receptionist"}, {"is_active", true}},
                                             {{"id", "d0c70000-0000-4000-8000-000000000002"}, {"clinic_id", kOtherClinic},
                                              {"full_name", "Dr South"}, {"role", "doctor"}, {"is_active", true}}}},
                               {"patients", patients},
                               {"appointments", appts}});
    }

    void pair_files(const std::string& token) {
        const fs::path creds = state_dir() / "credentials";
        fs::create_directories(creds);
        ::chmod(state_dir().c_str(), 0700);
        ::chmod(creds.c_str(), 0700);
        write_file(creds / "cloud-api-key", PostgrestStandin::kApiKey);
        write_file(creds / "cloud-device-token", token);
        ::chmod((creds / "cloud-api-key").c_str(), 0600);
        ::chmod((creds / "cloud-device-token").c_str(), 0600);
    }

    fs::path state_dir() const { return dir.path() / "state"; }

    void start_daemon() {
        ConsultdOptions o;
        o.state_dir = state_dir();
        o.args = {"--set", "cloud.url=" + cloud.url(), "--set", std::string("cloud.clinic_id=") + kClinic,
                  "--set", "cloud.poll_seconds=5", "--set", "http.rate_limit_per_minute=1000000",
                  "--set", "http.rate_limit_burst=100000",
                  // These tests are about the sync: sessions are made by Start (the journey's own test turns it on).
                  "--set", "notify.prepare_at_booking=false"};
        o.args.insert(o.args.end(), extra_args.begin(), extra_args.end());
        o.env = extra_env;
        daemon = std::make_unique<ConsultdProcess>(o);
        if (!daemon->start()) throw std::runtime_error("consultd: " + daemon->start_error());
        if (!daemon->wait_for_healthz(30)) throw std::runtime_error("consultd not healthy: " + daemon->stderr_text());
        // READY: the hardware probe is done and the fleet report queued (fleet/status_reporter).
        if (!daemon->wait_for_notify("READY=1", 60)) throw std::runtime_error("consultd not ready: " + daemon->stderr_text());
        write_file(dir / "ctl.conf", "[http]\nport=" + std::to_string(daemon->port()) + "\n[cloud]\nurl=" + cloud.url() +
                                         "\nclinic_id=" + kClinic + "\n");
    }

    // Seeds, pairs, starts consultd and waits for its first complete pull.
    void start_paired(int appointments) {
        seed(appointments);
        pair_files(cloud.token(kClinic));
        start_daemon();
        ASSERT_TRUE(wait_for([&] { return status()["last_pull_at"].is_string(); }, 60s)) << status().dump();
        // A quiet start: the first fleet report has gone up, so the outbox holds only what the test makes.
        ASSERT_TRUE(wait_for([&] { return status()["outbox_depth"] == 0; }, 60s)) << status().dump();
    }

    json status() const {
        auto r = daemon->http("GET", "/api/system/cloud", "", {}, 5000);
        if (r.status != 200) return json::object();
        return json::parse(r.body, nullptr, false);
    }

    static bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            if (done()) return true;
            std::this_thread::sleep_for(100ms);
        }
        return done();
    }

    CommandResult ctl(std::vector<std::string> args) const {
        std::vector<std::string> argv{consultctl_bin(), "--config", (dir / "ctl.conf").string(), "--state-dir",
                                      state_dir().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 150s);
    }

    std::string token(const std::string& role, const std::string& identity) const {
        auto r = ctl({"token", "--role", role, "--identity", identity});
        std::string t = r.out;
        while (!t.empty() && t.back() == '\n') t.pop_back();
        if (r.code() != 0 || t.empty()) throw std::runtime_error("consultctl token: " + r.err);
        return t;
    }

    void sync_now() {
        auto r = daemon->http("POST", "/api/system/cloud/sync", "", {"Authorization: Bearer " + token("admin", "it")}, 5000);
        if (r.status != 202) throw std::runtime_error("sync: " + std::to_string(r.status) + " " + r.body);
    }

    // A session for appointment i (created by the doctor); returns {id, patient token}.
    std::pair<std::string, std::string> create_session(int i, const std::string& doctor_token) {
        auto r = daemon->http("POST", kSessions,
                              json{{"appointment_id", appointment_id(i)}, {"duration_minutes", 30}}.dump(),
                              {"Authorization: Bearer " + doctor_token, "Content-Type: application/json"}, 10000);
        if (r.status != 201) throw std::runtime_error("create session: " + std::to_string(r.status) + " " + r.body);
        auto j = json::parse(r.body);
        std::string url = j.value("patient_invite_url", "");
        auto at = url.find("#t=");
        return {j.value("session_id", ""), at == std::string::npos ? "" : url.substr(at + 3)};
    }

    long post(const std::string& path, const std::string& token) {
        return daemon->http("POST", path, "", {"Authorization: Bearer " + token}, 10000).status;
    }

    std::vector<std::vector<std::string>> local(const std::string& sql) const {
        std::vector<std::vector<std::string>> out;
        sqlite3* db = nullptr;
        if (sqlite3_open_v2((state_dir() / "consult.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 5000);
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK)
                while (sqlite3_step(st) == SQLITE_ROW) {
                    auto& row = out.emplace_back();
                    for (int c = 0; c < sqlite3_column_count(st); ++c) {
                        auto* t = sqlite3_column_text(st, c);
                        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
                    }
                }
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return out;
    }
    std::string local_value(const std::string& sql) const {
        auto rows = local(sql);
        return rows.empty() || rows[0].empty() ? "<none>" : rows[0][0];
    }

    TempDir dir{"consult-cloud"};
    std::vector<std::string> extra_args;   // more --set overrides for consultd
    EnvVars extra_env;                     // and its environment (e.g. where /proc's files are)
    PostgrestStandin cloud;
    std::unique_ptr<ConsultdProcess> daemon;
};

}  // namespace consult::test::cloud
