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

// What a request to record (or to stop) came to.
struct RecordResult {
    enum class Outcome {
        Recording,    // the recorder runs (the patient had said yes)
        Stopped,
        Asked,        // the patient's screen asks them now: 409 consent_required
        Pending,      // the patient has not answered yet: 409 consent_required
        TooSoon,      // asked less than a minute ago: 409 consent_required, retry_after
        NotInCall,    // no call with the patient in it
        Disabled,     // recording is off in the clinic's settings
        NoRoom,       // the disk has too little room
        Failed,       // the recorder could not start
    } outcome;
    std::string message;
    int retry_after = 0;
};

struct LiveRooms {
    std::function<bool()> call_running;
    // Consultations with someone in them: a call, or a patient waiting or admitted.
    std::function<std::size_t()> occupied_rooms;
    // REST's admit on a consultation already in progress: lets the waiting screen in.
    std::function<bool(const std::string& session_id)> admit_waiting;
    // The doctor (or an admin) starts or stops the recording of a running call.
    std::function<RecordResult(const std::string& session_id, bool on, const std::string& actor,
                               const std::string& address)> record;
    // A token was given up (sign-out): its signalling screens close, a doctor's running calls end.
    std::function<void(const tokens::Claims&)> signed_out;
    // Told after a session changed state (REST, sweeper, signalling), on the main loop.
    std::vector<std::function<void(const store::SessionRow&)>> session_listeners;

    bool running() const { return call_running && call_running(); }
    std::size_t occupied() const { return occupied_rooms ? occupied_rooms() : 0; }
    bool admit(const std::string& session_id) const { return admit_waiting && admit_waiting(session_id); }
    RecordResult set_recording(const std::string& session_id, bool on, const std::string& actor,
                               const std::string& address) const {
        if (!record) return {RecordResult::Outcome::NotInCall, "no call is running", 0};
        return record(session_id, on, actor, address);
    }
    void sign_out(const tokens::Claims& c) const {
        if (signed_out) signed_out(c);
    }
    void session_changed(const store::SessionRow& s) const {
        for (const auto& f : session_listeners) f(s);
    }
};

}  // namespace consult
