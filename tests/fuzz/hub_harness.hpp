// A signalling hub on a throwaway store, for the fuzz target and its regression
// cases: screens are fake links, timers run when asked, media is never available
// (no probe), so every message goes through the hub's real handlers and rules.
#pragma once

#include "appliance/config.hpp"
#include "appliance/room/room_events.hpp"
#include "appliance/signalling/hub.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/write_queue.hpp"
#include "appliance/tokens/token_service.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace consult::fuzz {

class FakeLink : public signalling::ScreenLink {
public:
    void send(const std::string& text) override { sent += text.size(); }
    void close(signalling::CloseCode code, const std::string&) override {
        open_ = false;
        last_code = int(code);
    }
    bool open() const override { return open_; }
    std::size_t sent = 0;
    int last_code = 0;

private:
    bool open_ = true;
};

// What the store holds before each run: migrated, the demo clinic, one scheduled session.
struct Fixture {
    Fixture();
    store::Database templ;
    std::string session_id, patient_token, doctor_token, other_doctor_token;
};

class HubRun {
public:
    explicit HubRun(const Fixture& f);
    ~HubRun();
    // "<screen digit><message>": a message from that screen (connected on first use);
    // "x<digit>": that screen's socket closes; "t": time jumps past the rejoin window
    // and every timer runs.
    // $P, $D, $E and $S in a message become the patient's and doctors' tokens and the
    // session's id.
    void line(std::string_view l);

private:
    const Fixture& f_;
    store::Database db_;
    Config config_;
    Metrics metrics_;
    tokens::TokenService tokens_;
    room::Events events_;
    std::vector<std::function<void()>> timers_;
    room::Clock::time_point now_ = room::Clock::time_point{} + std::chrono::hours(1000);
    std::unique_ptr<store::WriteQueue> writes_;
    std::unique_ptr<signalling::Hub> hub_;
    std::string screens_[4];
};

}  // namespace consult::fuzz
