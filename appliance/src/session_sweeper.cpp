#include "appliance/session_sweeper.hpp"

#include "appliance/log.hpp"
#include "appliance/store/session_stats.hpp"
#include "appliance/store/session_store.hpp"

namespace consult {

SweepResult sweep_sessions(store::Database& db, const Config::Sessions& config, const LiveRooms& rooms, std::time_t now) {
    SweepResult r;
    store::SessionStore sessions(db);
    const domain::SweepLimits limits{config.grace_minutes, config.max_minutes};
    for (const auto& id : domain::sessions_to_end(sessions.live_sessions(), now, limits)) {
        rooms.session_changed(
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
    for (const auto& d : store::sessions_by_day(db))
        o += "consult_sessions{day=\"" + d.day + "\",status=\"" + d.status + "\"} " + std::to_string(d.count) + "\n";

    o += "# HELP consult_session_duration_seconds Duration of completed video sessions.\n"
         "# TYPE consult_session_duration_seconds histogram\n";
    static constexpr int bounds[] = {60, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200};
    const auto hist = store::completed_durations(db, bounds);
    for (size_t i = 0; i < std::size(bounds); ++i)
        o += "consult_session_duration_seconds_bucket{le=\"" + std::to_string(bounds[i]) + "\"} " +
             std::to_string(hist.at_most[i]) + "\n";
    o += "consult_session_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(hist.count) + "\n";
    o += "consult_session_duration_seconds_sum " + std::to_string(hist.sum_seconds) + "\n";
    o += "consult_session_duration_seconds_count " + std::to_string(hist.count) + "\n";

    o += "# HELP consult_no_shows_total Video appointments whose slot passed with no patient.\n"
         "# TYPE consult_no_shows_total counter\n";
    o += "consult_no_shows_total " + std::to_string(store::no_show_count(db)) + "\n";
    return o;
}

}  // namespace consult
