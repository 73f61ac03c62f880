// The patient's consent to recording, as rules for one call. Plain C++ with the time
// passed in; the signalling hub asks it before the recorder runs (docs/signalling.md,
// "Recording").
//
// The rules:
// - Nothing is recorded before the patient says yes to a request from the doctor.
// - "No" is final for that request; the doctor may ask again, at most once a minute
//   (counted from the last request).
// - The patient may withdraw at any time: the recording stops at once.
// - A yes holds while the same admission lasts (a rejoin within the window included);
//   when the patient leaves, comes back from another device or the call ends, it is
//   gone and the doctor asks again.
#pragma once

#include <chrono>
#include <optional>

namespace consult::room {

class RecordingConsent {
public:
    using Clock = std::chrono::steady_clock;
    enum class State { None, Asked, Given, Declined, Withdrawn };

    explicit RecordingConsent(std::chrono::seconds ask_interval = std::chrono::seconds(60))
        : interval_(ask_interval) {}

    enum class Ask {
        Sent,           // a new request: show the patient the question
        Pending,        // one is already on the patient's screen (shown again)
        AlreadyGiven,   // the patient said yes and has not withdrawn: record
        TooSoon,        // asked less than a minute ago: see retry_after
    };
    struct Request {
        Ask outcome;
        std::chrono::seconds retry_after{0};
    };
    // The doctor wants to record.
    Request request(Clock::time_point now);
    // The doctor no longer waits for an answer (stops before the patient answered).
    void cancel();

    enum class Answer {
        Given,       // to a pending request
        Declined,    // to a pending request
        Withdrawn,   // a given consent taken back: stop recording
        Ignored,     // no request pending and nothing to withdraw
    };
    Answer answer(bool given);

    // The admission this consent belonged to ended (left, another device, call over).
    void reset();

    bool given() const { return state_ == State::Given; }
    bool pending() const { return state_ == State::Asked; }
    State state() const { return state_; }

private:
    std::chrono::seconds interval_;
    State state_ = State::None;
    std::optional<Clock::time_point> last_ask_;
};

const char* state_name(RecordingConsent::State s);   // "none", "asked", "given", "declined", "withdrawn"

}  // namespace consult::room
