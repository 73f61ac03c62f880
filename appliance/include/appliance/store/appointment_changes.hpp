// Appointments booked or changed since the appliance last looked (appointment_changes,
// filled by triggers on the appointments table), and what the patient's journey needs
// to know of one: its kind, state, time and sessions.
#pragma once

#include "appliance/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct AppointmentChange {
    std::string appointment_id, queued_at;
    int attempts = 0;
};

// The oldest first, at most `limit`.
std::vector<AppointmentChange> queued_appointment_changes(Database& db, int limit);
// Handled: gone from the queue unless the appointment changed again since `queued_at`.
void appointment_change_done(Database& db, const AppointmentChange& change);
// Could not be handled: tried again later, dropped after `max_attempts`. True when dropped.
bool appointment_change_failed(Database& db, const AppointmentChange& change, int max_attempts);

struct JourneyAppointment {
    std::string id, consultation_type, status, starts_at;
    int duration_minutes = 30;
    std::optional<std::string> open_session;      // scheduled or waiting
    bool in_progress = false;                      // a call of it is running now
    std::vector<std::string> cancelled_sessions;   // its cancelled sessions, newest first
};
std::optional<JourneyAppointment> journey_appointment(Database& db, const std::string& appointment_id);

}  // namespace consult::store
