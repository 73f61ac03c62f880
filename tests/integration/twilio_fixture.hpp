// consultd with Twilio and email switched on against the stand-ins
// (tests/standins/twilio_standin.py and smtp_standin.py), for the messaging tests.
#pragma once

#include "api_fixture.hpp"
#include "python_standin.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <thread>

namespace consult::test::twilio {

using json = nlohmann::json;
using namespace std::chrono_literals;

inline const std::string kAccount = "AC" + std::string(31, '0') + "7";
inline const std::string kAuthToken = "stand-in-auth-token-0123456789ab";
inline const std::string kFrom = "+15550109999";
inline const std::string kClinicEmail = "clinic@example.org";
inline const std::string kSmtpPassword = "smtp-secret";

inline void write_credential(const fs::path& state_dir, const std::string& name, const std::string& value) {
    fs::create_directories(state_dir / "credentials");
    write_file(state_dir / "credentials" / name, value);
    ::chmod((state_dir / "credentials" / name).c_str(), 0600);
}

// Waits (at most `limit`) until `ready` says yes; false when it never did.
template <class F> bool eventually(F ready, std::chrono::milliseconds limit = 10s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (ready()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return ready();
}

inline void exec_sql(const fs::path& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string e = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) api::setup_failed(sql + ": " + e);
}

class MessagingTest : public ::testing::Test {
protected:
    MessagingTest()
        : twilio_("twilio_standin.py", {"--account-sid", kAccount, "--auth-token", kAuthToken}),
          smtp_("smtp_standin.py", {"--spool", (spool_.path()).string(), "--password", kSmtpPassword}),
          api_(args()) {}

    std::vector<std::string> args() const {
        auto a = api::kFastRateLimit;
        for (std::string s : {"twilio.api_base_url=" + twilio_.url(), "twilio.account_sid=" + kAccount,
                              "twilio.from_number=" + kFrom,
                              "email.smtp_url=smtp://127.0.0.1:" + std::to_string(smtp_.port()),
                              "email.from=" + kClinicEmail,
                              std::string("notify.clock_seconds=2")})   // the reminders' clock: 2 s, not 15
            a.insert(a.end(), {"--set", s});
        return a;
    }

    void SetUp() override {
        write_credential(api_.proc().state_dir(), "twilio-auth-token", kAuthToken);
        write_credential(api_.proc().state_dir(), "smtp-password", kSmtpPassword);
        api_.start();
    }

    json messages() const { return twilio_.get("/_control/messages")["messages"]; }
    // The stand-in's messages to this number.
    std::vector<json> messages_to(const std::string& phone) const {
        std::vector<json> out;
        for (const auto& m : messages())
            if (m["to"] == phone) out.push_back(m);
        return out;
    }
    // The SID of the first SMS to this patient, once the stand-in has it (empty after 10 s).
    std::string invite_sid(const std::string& patient) const {
        if (!eventually([&] { return !messages_to(phone_of(patient)).empty(); })) return {};
        return messages_to(phone_of(patient))[0]["sid"];
    }
    // The session's short-link code.
    std::string code_of(const std::string& session) const {
        return api_.query_column("SELECT code FROM short_links WHERE session_id = '" + session + "'").at(0);
    }
    std::string phone_of(const std::string& patient) const {
        return api_.query_column("SELECT phone FROM patients WHERE id = '" + patient + "'").at(0);
    }
    void set_email(const std::string& patient, const std::string& email) {
        exec_sql(api_.db_path(), "UPDATE patients SET email = '" + email + "' WHERE id = '" + patient + "'");
    }
    std::vector<std::string> emails() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(spool_.path()))
            if (e.path().extension() == ".eml") out.push_back(read_file(e.path()));
        std::sort(out.begin(), out.end());
        return out;
    }
    // A stand-in callback for this message: the appliance's HTTP answers, in order.
    json callback(const std::string& sid, const std::vector<std::string>& statuses, json extra = json::object()) {
        extra["sid"] = sid;
        extra["statuses"] = statuses;
        return twilio_.control("callback", extra)["replies"];
    }
    std::string stored_status(const std::string& sid) const {
        auto rows = api_.query_column("SELECT status FROM outbound_messages WHERE provider_sid = '" + sid + "'");
        return rows.empty() ? "(none)" : rows[0];
    }

    TempDir spool_{"consult-smtp"};
    PythonStandin twilio_;
    PythonStandin smtp_;
    api::ApiDaemon api_;
};

}  // namespace consult::test::twilio
