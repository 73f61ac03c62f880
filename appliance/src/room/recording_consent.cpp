#include "appliance/room/recording_consent.hpp"

namespace consult::room {

RecordingConsent::Request RecordingConsent::request(Clock::time_point now) {
    if (state_ == State::Given) return {Ask::AlreadyGiven};
    if (state_ == State::Asked) return {Ask::Pending};
    if (last_ask_ && now - *last_ask_ < interval_) {
        auto left = std::chrono::ceil<std::chrono::seconds>(interval_ - (now - *last_ask_));
        return {Ask::TooSoon, left};
    }
    last_ask_ = now;
    state_ = State::Asked;
    return {Ask::Sent};
}

void RecordingConsent::cancel() {
    if (state_ == State::Asked) state_ = State::None;
}

RecordingConsent::Answer RecordingConsent::answer(bool given) {
    if (state_ == State::Asked) {
        state_ = given ? State::Given : State::Declined;
        return given ? Answer::Given : Answer::Declined;
    }
    if (state_ == State::Given && !given) {
        state_ = State::Withdrawn;
        return Answer::Withdrawn;
    }
    return Answer::Ignored;
}

void RecordingConsent::reset() {
    // The once-a-minute limit outlives the admission: leaving and coming back is not a
    // way around it.
    state_ = State::None;
}

const char* state_name(RecordingConsent::State s) {
    switch (s) {
    case RecordingConsent::State::None: return "none";
    case RecordingConsent::State::Asked: return "asked";
    case RecordingConsent::State::Given: return "given";
    case RecordingConsent::State::Declined: return "declined";
    case RecordingConsent::State::Withdrawn: return "withdrawn";
    }
    return "none";
}

}  // namespace consult::room
