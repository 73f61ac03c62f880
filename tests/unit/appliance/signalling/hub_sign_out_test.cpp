// A doctor signing out while the store refuses to record the end of a call: the camera
// and microphone still stop for the patient, who is told; the row stays in progress.
#include "appliance/signalling/hub.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/session_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace consult::signalling {
namespace {

struct RecordingLink : ScreenLink {
    explicit RecordingLink(std::vector<nlohmann::json>& out, int& code) : out_(out), code_(code) {}
    void send(const std::string& text) override { out_.push_back(nlohmann::json::parse(text)); }
    void close(CloseCode code, const std::string&) override {
        open_ = false;
        code_ = int(code);
    }
    bool open() const override { return open_; }

    std::vector<nlohmann::json>& out_;
    int& code_;
    bool open_ = true;
};

TEST(HubSignOut, WhenTheStoreRefusesTheEndTheCallStillStopsAndThePatientIsTold) {
    auto db = store::Database::open(":memory:");
    store::migrate(db);
    store::seed_demo(db, std::chrono::system_clock::now());
    auto st = db.prepare("SELECT id, patient_id FROM appointments WHERE doctor_id = ?1 AND consultation_type = 'video' LIMIT 1");
    st.bind(1, std::string_view(store::DemoIds::doctor_b));
    ASSERT_TRUE(st.step());
    const std::string appointment = st.text(0), patient = st.text(1);
    store::SessionStore sessions(db);
    const std::string session = sessions.create(appointment, 30, store::DemoIds::doctor_b).id;

    Config config;
    Metrics metrics;
    room::Events events;
    tokens::TokenService tokens("sign-out-test-key-sign-out-test-");
    std::vector<std::function<void()>> timers;
    store::WriteQueue writes(db, [&](std::chrono::milliseconds, std::function<void()> f) { timers.push_back(std::move(f)); });
    std::unique_ptr<Hub> hub;
    HubDeps deps{db, writes, tokens, metrics, events, config, {}, {}, {}, {}, {}, {}};
    deps.call_settings = [](const twilio::IceServerList&) { return std::optional<media::CallSettings>(); };
    deps.ice_servers = [] { return twilio::IceServerList{{}, "configured", 0}; };
    deps.content_available = [] { return false; };
    deps.doctor_ready = [](const std::string&) {};
    deps.session_changed = [&](const store::SessionRow& row) { hub->session_changed(row); };
    deps.later = [&](std::chrono::milliseconds, std::function<void()> f) { timers.push_back(std::move(f)); };
    hub = std::make_unique<Hub>(std::move(deps));

    // The patient waits; the doctor's call screen is open (on a token renewed since, so
    // signing out closes it only through the consultation's end).
    std::vector<nlohmann::json> got, doctor_got;
    int closed = 0, doctor_closed = 0;
    const auto now = tokens::unix_now();
    const std::string screen = hub->connect(std::make_unique<RecordingLink>(got, closed), "10.0.0.2");
    hub->receive(screen, nlohmann::json{{"type", "hello"},
                                        {"token", tokens.issue(patient, tokens::Role::Patient, session, 600, now)->token},
                                        {"device", "phone"}}.dump());
    const std::string call_screen = hub->connect(std::make_unique<RecordingLink>(doctor_got, doctor_closed), "127.0.0.1");
    hub->receive(call_screen, nlohmann::json{{"type", "hello"},
                                             {"token", tokens.issue(store::DemoIds::doctor_b, tokens::Role::Doctor, std::nullopt, 600, now)->token},
                                             {"session", session}}.dump());
    sessions.transition(session, domain::SessionStatus::InProgress, store::DemoIds::doctor_b);
    ASSERT_EQ(closed, 0);
    ASSERT_EQ(doctor_closed, 0);

    db.exec("CREATE TRIGGER refuse BEFORE UPDATE ON video_consultation_sessions BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    auto doctor = tokens.check(tokens.issue(store::DemoIds::doctor_b, tokens::Role::Doctor, std::nullopt, 600, now)->token, now);
    ASSERT_TRUE(doctor);
    hub->signed_out(*doctor);

    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back()["type"], "ended");
    EXPECT_EQ(got.back()["reason"], "the doctor signed out");
    EXPECT_EQ(closed, int(CloseCode::Ended));
    EXPECT_EQ(doctor_closed, int(CloseCode::Ended)) << "the doctor's call screen closes too";
    EXPECT_EQ(sessions.find(session)->status, "in-progress") << "the refused end is not pretended";
    hub.reset();
}

}  // namespace
}  // namespace consult::signalling
