#include "appliance/store/session_stats.hpp"

namespace consult::store {

std::vector<SessionsOnDay> sessions_by_day(Database& db) {
    auto st = db.prepare(
        "SELECT date(a.starts_at, 'localtime') AS day, s.status, count(*) FROM video_consultation_sessions s "
        "JOIN appointments a ON a.id = s.appointment_id WHERE julianday(a.starts_at) >= julianday('now', '-7 days') "
        "GROUP BY day, s.status ORDER BY day, s.status");
    std::vector<SessionsOnDay> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.integer(2)});
    return out;
}

DurationCounts completed_durations(Database& db, std::span<const int> bounds) {
    std::string sql = "SELECT ";
    for (int b : bounds) sql += "sum(duration_seconds <= " + std::to_string(b) + "), ";
    sql += "count(*), coalesce(sum(duration_seconds), 0) FROM video_consultation_sessions "
           "WHERE status = 'completed' AND duration_seconds IS NOT NULL";
    auto st = db.prepare(sql);
    st.step();
    DurationCounts out;
    int i = 0;
    for (size_t n = 0; n < bounds.size(); ++n) out.at_most.push_back(st.integer(i++));
    out.count = st.integer(i);
    out.sum_seconds = st.integer(i + 1);
    return out;
}

std::int64_t no_show_count(Database& db) {
    auto st = db.prepare("SELECT count(*) FROM appointments WHERE status = 'no-show'");
    st.step();
    return st.integer(0);
}

}  // namespace consult::store
