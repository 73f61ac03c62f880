#include "appliance/domain/session_lifecycle.hpp"

namespace consult::domain {

std::string_view to_string(SessionStatus s) {
    switch (s) {
    case SessionStatus::Scheduled: return "scheduled";
    case SessionStatus::Waiting: return "waiting";
    case SessionStatus::InProgress: return "in-progress";
    case SessionStatus::Completed: return "completed";
    case SessionStatus::Cancelled: return "cancelled";
    }
    return "scheduled";
}

std::optional<SessionStatus> parse_session_status(std::string_view s) {
    for (auto v : {SessionStatus::Scheduled, SessionStatus::Waiting, SessionStatus::InProgress,
                   SessionStatus::Completed, SessionStatus::Cancelled})
        if (to_string(v) == s) return v;
    return std::nullopt;
}

bool is_closed(SessionStatus s) { return s == SessionStatus::Completed || s == SessionStatus::Cancelled; }

std::optional<std::string> refuse_transition(SessionStatus from, SessionStatus to) {
    using S = SessionStatus;
    const bool legal = (from == S::Scheduled && (to == S::Waiting || to == S::Cancelled)) ||
                       (from == S::Waiting && (to == S::InProgress || to == S::Cancelled)) ||
                       (from == S::InProgress && to == S::Completed);
    if (legal) return std::nullopt;
    std::string why = "a " + std::string(to_string(from)) + " session cannot become " + std::string(to_string(to));
    if (is_closed(from)) why += ": it has already ended";
    else if (to == S::InProgress) why += ": only a waiting patient can be admitted";
    else if (to == S::Completed) why += ": only a call in progress can be ended (cancel it instead)";
    else if (to == S::Cancelled) why += ": a call in progress is ended, not cancelled";
    return why;
}

}  // namespace consult::domain
