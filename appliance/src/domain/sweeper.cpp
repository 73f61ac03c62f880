#include "appliance/domain/sweeper.hpp"

#include <algorithm>

namespace consult::domain {

std::vector<std::string> sessions_to_end(const std::vector<LiveSession>& live, std::time_t now, SweepLimits l) {
    std::vector<std::string> out;
    for (const auto& s : live) {
        if (s.status != SessionStatus::InProgress || !s.started_at) continue;
        const int allowed = std::min(s.scheduled_minutes + l.grace_minutes, l.max_minutes);
        if (now >= *s.started_at + std::time_t(allowed) * 60) out.push_back(s.id);
    }
    return out;
}

std::vector<std::string> no_shows(const std::vector<BookedVideoSlot>& slots, std::time_t now, SweepLimits l) {
    std::vector<std::string> out;
    for (const auto& s : slots) {
        if (s.patient_joined) continue;
        if (s.session_status && *s.session_status != SessionStatus::Scheduled) continue;  // waiting or later: they came
        if (now >= s.starts_at + std::time_t(s.duration_minutes + l.grace_minutes) * 60) out.push_back(s.appointment_id);
    }
    return out;
}

}  // namespace consult::domain
