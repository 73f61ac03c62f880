#include "hub_harness.hpp"

#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/session_store.hpp"

#include <chrono>

namespace consult::fuzz {

namespace {
constexpr const char* kKey = "fuzzing-key-fuzzing-key-fuzzing-";
}

Fixture::Fixture() : templ(store::Database::open(":memory:")) {
    store::migrate(templ);
    store::seed_demo(templ, std::chrono::system_clock::now());
    auto st = templ.prepare("SELECT id, patient_id FROM appointments WHERE doctor_id = ?1 AND consultation_type = 'video' LIMIT 1");
    st.bind(1, std::string_view(store::DemoIds::doctor_b));
    st.step();
    const std::string appointment = st.text(0), patient = st.text(1);
    session_id = store::SessionStore(templ).create(appointment, 30, "fuzz").id;
    tokens::TokenService t(kKey);
    const auto now = tokens::unix_now();
    patient_token = t.issue(patient, tokens::Role::Patient, session_id, 3600, now)->token;
    doctor_token = t.issue(store::DemoIds::doctor_b, tokens::Role::Doctor, std::nullopt, 3600, now)->token;
    other_doctor_token = t.issue(store::DemoIds::doctor_a, tokens::Role::Doctor, std::nullopt, 3600, now)->token;
}

HubRun::HubRun(const Fixture& f) : f_(f), db_(store::Database::open(":memory:")), tokens_(kKey) {
    sqlite3_backup* b = sqlite3_backup_init(db_.raw(), "main", f.templ.raw(), "main");
    sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    config_.sessions.rejoin_seconds = 120;
    writes_ = std::make_unique<store::WriteQueue>(db_, [this](std::chrono::milliseconds, std::function<void()> fn) {
        timers_.push_back(std::move(fn));
    });
    signalling::HubDeps deps{db_, *writes_, tokens_, metrics_, events_, config_, {}, {}, {}, {}, {}, {}};
    deps.call_settings = [](const twilio::IceServerList&) { return std::optional<media::CallSettings>(); };
    deps.ice_servers = [] { return twilio::IceServerList{{}, "configured", 0}; };
    deps.content_available = [] { return false; };
    deps.doctor_ready = [](const std::string&) {};
    deps.session_changed = [this](const store::SessionRow& row) { hub_->session_changed(row); };
    deps.later = [this](std::chrono::milliseconds, std::function<void()> fn) { timers_.push_back(std::move(fn)); };
    deps.now = [this] { return now_; };
    hub_ = std::make_unique<signalling::Hub>(std::move(deps));
}

HubRun::~HubRun() {
    hub_.reset();
    writes_.reset();
}

void HubRun::line(std::string_view l) {
    if (l.empty()) return;
    if (l[0] == 't') {
        now_ += std::chrono::seconds(200);
        auto due = std::move(timers_);
        timers_.clear();
        for (auto& fn : due) fn();
        return;
    }
    const bool closing = l[0] == 'x';
    if (closing) l.remove_prefix(1);
    if (l.empty() || l[0] < '0' || l[0] > '3') return;
    std::string& screen = screens_[l[0] - '0'];
    l.remove_prefix(1);
    if (closing) {
        if (!screen.empty()) hub_->disconnected(screen);
        screen.clear();
        return;
    }
    if (screen.empty()) screen = hub_->connect(std::make_unique<FakeLink>(), "10.0.0.1");
    std::string text(l);
    auto replace = [&](const std::string& from, const std::string& to) {
        for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
    };
    replace("$P", f_.patient_token);
    replace("$D", f_.doctor_token);
    replace("$E", f_.other_doctor_token);
    replace("$S", f_.session_id);
    hub_->receive(screen, text);
}

}  // namespace consult::fuzz
