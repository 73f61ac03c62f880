// The patient side of one consultation's room, as rules: who waits, who is let in,
// who may come back without waiting, and who must wait again. Plain C++ with the time
// passed in; the signalling hub applies its answers to sockets, media and the store.
//
// The rules (docs/signalling.md, "The waiting room"):
// - Only the doctor lets a patient's screen into a running call (admit).
// - The admitted screen that drops (reload, network change) may come back without
//   waiting from the same device within the rejoin window; the same device opening
//   the link again (another tab, a reload seen before the drop) takes over.
// - After `leave`, after the window, or from another device, the link leads to the
//   waiting room again, with the reason, and the doctor admits again.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace consult::room {

using Clock = std::chrono::steady_clock;
using ScreenId = std::string;

enum class WaitReason {
    FirstVisit,          // has not been in the call yet
    AnotherDevice,       // the call is open on another device
    AfterLeaving,        // left the call and came back
    AfterRejoinWindow,   // dropped and came back too late
};
const char* reason_code(WaitReason r);   // "first_visit", "another_device", …
const char* reason_text(WaitReason r);   // for the doctor's screen

struct WaitingScreen {
    ScreenId screen;
    Clock::time_point since;
    WaitReason reason;
};

class WaitingRoom {
public:
    explicit WaitingRoom(std::chrono::seconds rejoin_window) : window_(rejoin_window) {}

    struct Arrival {
        bool admitted = false;                // straight into the call
        bool rejoin = false;                  // … as the admitted patient coming back (else let in ahead)
        WaitReason reason = WaitReason::FirstVisit;   // when waiting
        std::optional<ScreenId> replaced;     // the same device's older screen, to be closed
    };
    // A patient's screen said hello. `device` identifies the browser (a random id the
    // page keeps; empty when it sent none, which never matches). `call_open`: the
    // session is in progress.
    Arrival arrive(const ScreenId& screen, const std::string& device, bool call_open, Clock::time_point now);

    struct Admission {
        ScreenId admitted;
        std::optional<ScreenId> replaced;     // the previously admitted screen, to be closed
    };
    // The doctor lets `which` in (or, when not named, the screen that waited last).
    std::optional<Admission> admit(const std::optional<ScreenId>& which);
    // The doctor admitted while nobody waited (the page was away): the next screen to
    // arrive while the call is open is let in without waiting, once.
    void admit_next_arrival() { admit_next_ = true; }

    struct Departure {
        bool was_admitted = false;
        bool window_opened = false;           // may come back without waiting until window_ends()
        bool patient_gone = false;            // no screen left and no admission held
    };
    // A screen's socket closed without `leave`.
    Departure dropped(const ScreenId& screen, Clock::time_point now);
    // The patient left on purpose: no coming back without the doctor.
    Departure left(const ScreenId& screen);
    // The doctor turned one waiting screen away (the call goes on).
    bool turn_away(const ScreenId& screen);
    // Ends the admission if the rejoin window has passed; true when it did.
    bool expire(Clock::time_point now);
    // The consultation ended: nobody is in or waiting any more.
    void clear();

    std::optional<Clock::time_point> window_ends() const;
    const std::vector<WaitingScreen>& waiting() const { return waiting_; }
    std::optional<ScreenId> admitted_screen() const;   // connected and admitted
    bool admission_held() const { return admitted_.has_value(); }
    bool present() const { return admitted_.has_value() || !waiting_.empty(); }
    bool is_waiting(const ScreenId& screen) const;

private:
    struct Admitted {
        std::string device;
        std::optional<ScreenId> screen;               // empty while dropped
        std::optional<Clock::time_point> dropped_at;
    };
    void remove_waiting(const ScreenId& screen);

    std::chrono::seconds window_;
    std::optional<Admitted> admitted_;
    std::vector<WaitingScreen> waiting_;
    std::vector<std::string> devices_;    // device of each waiting screen, same order
    std::optional<WaitReason> last_exit_; // why the last admission ended
    bool admit_next_ = false;             // admitted while nobody waited
};

}  // namespace consult::room
