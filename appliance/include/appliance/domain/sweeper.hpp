// Decisions the clock makes on its own: a call past its booked time plus grace ends
// by itself; a booked video slot that passes with no patient is a no-show.
#pragma once

#include "appliance/domain/session_lifecycle.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace consult::domain {

struct LiveSession {
    std::string id;
    SessionStatus status;
    std::optional<std::time_t> started_at;
    int scheduled_minutes;
};

struct BookedVideoSlot {
    std::string appointment_id;
    std::time_t starts_at;
    int duration_minutes;
    bool patient_joined;                  // any session of it ever saw the patient
    std::optional<std::string> session_id;
    std::optional<SessionStatus> session_status;
};

struct SweepLimits {
    int grace_minutes = 10;
    int max_minutes = 240;
};

// In-progress sessions that have run past min(booked + grace, max).
std::vector<std::string> sessions_to_end(const std::vector<LiveSession>& live, std::time_t now, SweepLimits limits);

// Appointments whose slot (plus grace) is over with no patient ever joining.
std::vector<std::string> no_shows(const std::vector<BookedVideoSlot>& slots, std::time_t now, SweepLimits limits);

}  // namespace consult::domain
