#include "appliance/session_sweeper.hpp"

#include "appliance/log.hpp"
#include "appliance/store/session_store.hpp"

namespace consult {

SweepResult sweep_sessions(ApplianceContext& ctx, std::time_t now) {
    SweepResult r;
    store::SessionStore sessions(ctx.db);
    const domain::SweepLimits limits{ctx.config.sessions.grace_minutes, ctx.config.sessions.max_minutes};
    for (const auto& id : domain::sessions_to_end(sessions.live_sessions(), now, limits)) {
        ctx.session_changed(
            sessions.transition(id, domain::SessionStatus::Completed, "system", std::string("time limit reached")));
        log::info("session ended by its time limit", {{"SESSION_ID", id}});
        ++r.ended;
    }
    for (const auto& appointment : domain::no_shows(sessions.unfinished_video_slots(), now, limits)) {
        sessions.mark_no_show(appointment);
        log::info("video appointment recorded as no-show", {{"APPOINTMENT_ID", appointment}});
        ++r.no_shows;
    }
    return r;
}

std::string session_metrics(store::Database& db) {
    std::string o;
    o += "# HELP consult_sessions Video sessions by status and local day of their appointment (last 7 days).\n"
         "# TYPE consult_sessions gauge\n";
    auto by_day = db.prepare(
        "SELECT date(a.starts_at, 'localtime') AS day, s.status, count(*) FROM video_consultation_sessions s "
        "JOIN appointments a ON a.id = s.appointment_id WHERE julianday(a.starts_at) >= julianday('now', '-7 days') "
        "GROUP BY day, s.status ORDER BY day, s.status");
    while (by_day.step())
        o += "consult_sessions{day=\"" + by_day.text(0) + "\",status=\"" + by_day.text(1) + "\"} " +
             std::to_string(by_day.integer(2)) + "\n";

    o += "# HELP consult_session_duration_seconds Duration of completed video sessions.\n"
         "# TYPE consult_session_duration_seconds histogram\n";
    static const int bounds[] = {60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200};
    std::string sql = "SELECT ";
    for (int b : bounds) sql += "sum(duration_seconds <= " + std::to_string(b) + "), ";
    sql += "count(*), coalesce(sum(duration_seconds), 0) FROM video_consultation_sessions "
           "WHERE status = 'completed' AND duration_seconds IS NOT NULL";
    auto hist = db.prepare(sql);
    hist.step();
    int i = 0;
    for (int b : bounds)
        o += "consult_session_duration_seconds_bucket{le=\"" + std::to_string(b) + "\"} " +
             std::to_string(hist.integer(i++)) + "\n";
    o += "consult_session_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(hist.integer(i)) + "\n";
    o += "consult_session_duration_seconds_sum " + std::to_string(hist.integer(i + 1)) + "\n";
    o += "consult_session_duration_seconds_count " + std::to_string(hist.integer(i)) + "\n";

    o += "# HELP consult_no_shows_total Video appointments whose slot passed with no patient.\n"
         "# TYPE consult_no_shows_total counter\n";
    auto ns = db.prepare("SELECT count(*) FROM appointments WHERE status = 'no-show'");
    ns.step();
    o += "consult_no_shows_total " + std::to_string(ns.integer(0)) + "\n";
    return o;
}

}  // namespace consult
