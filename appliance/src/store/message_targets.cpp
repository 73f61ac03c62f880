#include "appliance/store/message_targets.hpp"

namespace consult::store {

std::optional<MessageRecipient> find_recipient(Database& db, const std::string& session_id) {
    auto st = db.prepare(
        "SELECT s.room_name, s.status, s.created_at, a.starts_at, a.patient_id, p.phone, p.email, c.name, c.phone, "
        "p.notify_via, (SELECT code FROM short_links l WHERE l.session_id = s.id) "
        "FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id "
        "JOIN patients p ON p.id = a.patient_id JOIN clinics c ON c.id = a.clinic_id WHERE s.id = ?1");
    st.bind(1, std::string_view(session_id));
    if (!st.step()) return std::nullopt;
    MessageRecipient r;
    r.room = st.text(0);
    r.session_status = st.text(1);
    r.created_at = st.text(2);
    r.starts_at = st.text(3);
    r.patient_id = st.text(4);
    r.phone = st.optional_text(5);
    r.email = st.optional_text(6);
    r.clinic_name = st.text(7);
    r.clinic_phone = st.optional_text(8);
    r.notify_via = st.optional_text(9);
    r.short_code = st.optional_text(10);
    return r;
}

std::vector<UpcomingSession> open_sessions_starting(Database& db, const std::string& from, const std::string& to) {
    auto st = db.prepare(
        "SELECT s.id, a.starts_at, s.created_at FROM video_consultation_sessions s "
        "JOIN appointments a ON a.id = s.appointment_id WHERE s.status = 'scheduled' AND s.patient_joined_at IS NULL "
        "AND a.starts_at >= ?1 AND a.starts_at <= ?2 "
        "AND NOT EXISTS (SELECT 1 FROM appointment_changes c WHERE c.appointment_id = a.id) "
        "ORDER BY a.starts_at LIMIT 200");
    st.bind(1, std::string_view(from)).bind(2, std::string_view(to));
    std::vector<UpcomingSession> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2)});
    return out;
}

std::vector<std::string> sessions_completed_since(Database& db, const std::string& since) {
    auto st = db.prepare("SELECT id FROM video_consultation_sessions WHERE status = 'completed' "
                         "AND ended_at >= ?1 LIMIT 200");
    st.bind(1, std::string_view(since));
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

}  // namespace consult::store
