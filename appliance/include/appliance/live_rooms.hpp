// What the rest of the daemon asks of the consultations' live side (the signalling hub)
// and tells it. The hooks are set once the hub runs; until then no call is running,
// nobody waits and a sign-out closes nothing.
#pragma once

#include "appliance/store/records.hpp"
#include "appliance/tokens/token_service.hpp"

#include <functional>
#include <string>
#include <vector>

namespace consult {

struct LiveRooms {
    std::function<bool()> call_running;
    // REST's admit on a consultation already in progress: lets the waiting screen in.
    std::function<bool(const std::string& session_id)> admit_waiting;
    // A token was given up (sign-out): its signalling screens close, a doctor's running calls end.
    std::function<void(const tokens::Claims&)> signed_out;
    // Told after a session changed state (REST, sweeper, signalling), on the main loop.
    std::vector<std::function<void(const store::SessionRow&)>> session_listeners;

    bool running() const { return call_running && call_running(); }
    bool admit(const std::string& session_id) const { return admit_waiting && admit_waiting(session_id); }
    void sign_out(const tokens::Claims& c) const {
        if (signed_out) signed_out(c);
    }
    void session_changed(const store::SessionRow& s) const {
        for (const auto& f : session_listeners) f(s);
    }
};

}  // namespace consult
