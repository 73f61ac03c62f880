#include "appliance/store/appointment_changes.hpp"

namespace consult::store {

std::vector<AppointmentChange> queued_appointment_changes(Database& db, int limit) {
    auto st = db.prepare("SELECT appointment_id, queued_at, attempts FROM appointment_changes "
                         "ORDER BY queued_at, appointment_id LIMIT ?1");
    st.bind(1, limit);
    std::vector<AppointmentChange> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), int(st.integer(2))});
    return out;
}

void appointment_change_done(Database& db, const AppointmentChange& change) {
    db.prepare("DELETE FROM appointment_changes WHERE appointment_id = ?1 AND queued_at = ?2")
        .bind(1, std::string_view(change.appointment_id)).bind(2, std::string_view(change.queued_at))
        .run();
}

bool appointment_change_failed(Database& db, const AppointmentChange& change, int max_attempts) {
    if (change.attempts + 1 >= max_attempts) {
        appointment_change_done(db, change);
        return true;
    }
    db.prepare("UPDATE appointment_changes SET attempts = attempts + 1 WHERE appointment_id = ?1 AND queued_at = ?2")
        .bind(1, std::string_view(change.appointment_id)).bind(2, std::string_view(change.queued_at))
        .run();
    return false;
}

std::optional<JourneyAppointment> journey_appointment(Database& db, const std::string& appointment_id) {
    auto a = db.prepare("SELECT consultation_type, status, starts_at, duration_minutes FROM appointments WHERE id = ?1");
    a.bind(1, std::string_view(appointment_id));
    if (!a.step()) return std::nullopt;
    JourneyAppointment j;
    j.id = appointment_id;
    j.consultation_type = a.text(0);
    j.status = a.text(1);
    j.starts_at = a.text(2);
    j.duration_minutes = int(a.integer(3));
    auto s = db.prepare("SELECT id, status FROM video_consultation_sessions WHERE appointment_id = ?1 "
                        "ORDER BY created_at DESC, rowid DESC");
    s.bind(1, std::string_view(appointment_id));
    while (s.step()) {
        const std::string status = s.text(1);
        if (status == "scheduled" || status == "waiting") {
            if (!j.open_session) j.open_session = s.text(0);
        } else if (status == "in-progress") {
            j.in_progress = true;
        } else if (status == "cancelled") {
            j.cancelled_sessions.push_back(s.text(0));
        }
    }
    return j;
}

}  // namespace consult::store
