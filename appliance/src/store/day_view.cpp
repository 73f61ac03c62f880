#include "appliance/store/day_view.hpp"

namespace consult::store {

nlohmann::json doctor_day(Database& db, const std::string& doctor_id, const std::string& from_iso,
                          const std::string& to_iso) {
    auto st = db.prepare(
        "SELECT a.id, a.starts_at, a.duration_minutes, a.consultation_type, a.status, p.id, p.full_name, "
        "s.id, s.status, s.room_name, s.started_at, s.ended_at, s.notes, r.state "
        "FROM appointments a JOIN patients p ON p.id = a.patient_id "
        "LEFT JOIN video_consultation_sessions s ON s.id = a.video_session_id "
        "LEFT JOIN recordings r ON r.session_id = s.id "
        "WHERE a.doctor_id = ?1 AND a.starts_at >= ?2 AND a.starts_at < ?3 "
        "AND a.consultation_type IN ('video', 'hybrid') ORDER BY a.starts_at, a.id");
    st.bind(1, std::string_view(doctor_id)).bind(2, std::string_view(from_iso)).bind(3, std::string_view(to_iso));
    auto opt = [&](int col) { auto v = st.optional_text(col); return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    nlohmann::json out = nlohmann::json::array();
    while (st.step()) {
        nlohmann::json a{{"id", st.text(0)},          {"starts_at", st.text(1)}, {"duration_minutes", st.integer(2)},
                         {"consultation_type", st.text(3)}, {"status", st.text(4)},
                         {"patient", {{"id", st.text(5)}, {"name", st.text(6)}}}, {"session", nullptr}};
        if (st.optional_text(7))
            a["session"] = {{"id", st.text(7)},   {"status", st.text(8)}, {"room_name", st.text(9)},
                            {"started_at", opt(10)}, {"ended_at", opt(11)}, {"notes", opt(12)},
                            {"recording", opt(13)}};
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace consult::store
