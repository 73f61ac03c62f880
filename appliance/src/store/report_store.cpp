#include "appliance/store/report_store.hpp"

#include <map>

namespace consult::store {

namespace {

using domain::Date;

// Appointments in [?1, ?2) by their start, as stored (UTC, "…Z"). Bounds are cut to
// the second ("YYYY-MM-DDTHH:MM:SS"): every stored form of an instant sorts with them.
constexpr const char* kInRange = "a.starts_at >= ?1 AND a.starts_at < ?2";

constexpr const char* kAppointments =
    "SELECT date(a.starts_at, 'localtime') AS day, count(*), sum(a.starts_at < ?3), sum(a.status = 'no-show') "
    "FROM appointments a WHERE a.consultation_type IN ('video', 'hybrid') AND a.status <> 'cancelled' AND ";

// One row per session with the patient's latest connection report.
constexpr const char* kSessions =
    "WITH v AS (SELECT date(a.starts_at, 'localtime') AS day, s.status, s.started_at, s.duration_seconds, "
    "  s.doctor_joined_at, s.patient_joined_at, "
    "  (SELECT p.connection_quality FROM video_consultation_participants p WHERE p.session_id = s.id "
    "     AND p.user_type = 'patient' AND p.connection_quality IS NOT NULL ORDER BY p.joined_at DESC LIMIT 1) AS q "
    "  FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id WHERE ";
constexpr const char* kSessionSums =
    ") SELECT day, count(*), sum(started_at IS NOT NULL), sum(status = 'completed'), sum(status = 'cancelled'), "
    "  sum(status = 'completed' AND duration_seconds IS NOT NULL), "
    "  coalesce(sum(CASE WHEN status = 'completed' THEN duration_seconds END), 0), "
    "  sum(started_at IS NOT NULL AND doctor_joined_at IS NOT NULL AND patient_joined_at IS NOT NULL "
    "      AND (coalesce(json_extract(q, '$.frames_decoded'), 0) > 0 OR coalesce(json_extract(q, '$.audio_decoded'), 0) > 0)), "
    "  count(q), sum(json_extract(q, '$.level') = 'good'), sum(json_extract(q, '$.level') = 'fair'), "
    "  sum(json_extract(q, '$.level') = 'poor'), total(json_extract(q, '$.rtt_ms')), total(json_extract(q, '$.loss')) "
    "FROM v GROUP BY day";

constexpr const char* kRatings =
    "SELECT date(a.starts_at, 'localtime') AS day, r.score, count(*) FROM session_ratings r "
    "JOIN video_consultation_sessions s ON s.id = r.session_id JOIN appointments a ON a.id = s.appointment_id "
    "WHERE ";

constexpr const char* kRecordings =
    "SELECT date(a.starts_at, 'localtime') AS day, count(*), coalesce(sum(r.duration_ms), 0) FROM recordings r "
    "JOIN video_consultation_sessions s ON s.id = r.session_id JOIN appointments a ON a.id = s.appointment_id "
    "WHERE ";

constexpr const char* kDeclined =
    "SELECT date(a.starts_at, 'localtime') AS day, count(DISTINCT c.session_id) FROM recording_consents c "
    "JOIN video_consultation_sessions s ON s.id = c.session_id JOIN appointments a ON a.id = s.appointment_id "
    "WHERE c.answer = 'declined' AND ";

std::string second_of(std::time_t t) { return domain::iso_utc(t).substr(0, 19); }

std::optional<double> ratio(double part, std::int64_t whole) {
    if (whole <= 0) return std::nullopt;
    return part / double(whole);
}

// Days since 1970-01-01 (H. Hinnant's days_from_civil), and back.
std::int64_t day_number(const Date& d) {
    const int y = d.year - (d.month <= 2 ? 1 : 0);
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return std::int64_t(era) * 146097 + doe - 719468;
}

Date from_day_number(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int doe = int(z - era * 146097);
    const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int mp = (5 * doy + 2) / 153;
    const int day = doy - (153 * mp + 2) / 5 + 1;
    const int month = mp < 10 ? mp + 3 : mp - 9;
    return {int(yoe + era * 400) + (month <= 2 ? 1 : 0), month, day};
}

}  // namespace

ReportCounts& ReportCounts::operator+=(const ReportCounts& o) {
    appointments += o.appointments;
    due += o.due;
    no_shows += o.no_shows;
    sessions += o.sessions;
    held += o.held;
    completed += o.completed;
    cancelled += o.cancelled;
    timed += o.timed;
    duration_seconds += o.duration_seconds;
    joined += o.joined;
    quality_reports += o.quality_reports;
    quality_good += o.quality_good;
    quality_fair += o.quality_fair;
    quality_poor += o.quality_poor;
    rtt_ms_sum += o.rtt_ms_sum;
    loss_sum += o.loss_sum;
    for (std::size_t i = 0; i < ratings.size(); ++i) ratings[i] += o.ratings[i];
    recordings += o.recordings;
    recorded_ms += o.recorded_ms;
    recording_declined += o.recording_declined;
    return *this;
}

std::optional<double> ReportCounts::no_show_rate() const { return ratio(double(no_shows), due); }
std::optional<double> ReportCounts::average_duration_seconds() const { return ratio(double(duration_seconds), timed); }
std::optional<double> ReportCounts::join_success_rate() const { return ratio(double(joined), held); }
std::optional<double> ReportCounts::average_rtt_ms() const { return ratio(rtt_ms_sum, quality_reports); }
std::optional<double> ReportCounts::average_loss() const { return ratio(loss_sum, quality_reports); }

std::int64_t ReportCounts::rating_count() const {
    std::int64_t n = 0;
    for (auto c : ratings) n += c;
    return n;
}

std::optional<double> ReportCounts::average_rating() const {
    double sum = 0;
    for (std::size_t i = 0; i < ratings.size(); ++i) sum += double(ratings[i]) * double(i + 1);
    return ratio(sum, rating_count());
}

Date add_days(const Date& d, int days) { return from_day_number(day_number(d) + days); }
int days_between(const Date& from, const Date& to) { return int(day_number(to) - day_number(from)); }

std::string iso_week(const Date& d) {
    const std::int64_t n = day_number(d);
    const int weekday = int(((n % 7) + 7 + 3) % 7) + 1;   // 1970-01-01 was a Thursday; Monday = 1
    const Date thursday = from_day_number(n - weekday + 4);
    const int week = int((n - weekday + 4 - day_number({thursday.year, 1, 1})) / 7) + 1;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-W%02d", thursday.year % 10000, week % 100);
    return buf;
}

Report build_report(Database& db, const Date& from, const Date& to, std::time_t now) {
    Report out;
    out.from = domain::format_date(from);
    out.to = domain::format_date(to);
    std::map<std::string, ReportCounts> by_day;
    for (Date d = from; days_between(d, to) > 0; d = add_days(d, 1)) by_day[domain::format_date(d)];

    const std::string lo = second_of(domain::local_instant(from, 0));
    const std::string hi = second_of(domain::local_instant(to, 0));
    auto each = [&](const std::string& sql, bool with_now, auto&& row) {
        auto st = db.prepare(sql);
        st.bind(1, std::string_view(lo)).bind(2, std::string_view(hi));
        if (with_now) st.bind(3, std::string_view(second_of(now)));
        while (st.step()) {
            auto it = by_day.find(st.text(0));
            if (it != by_day.end()) row(st, it->second);   // a day outside the range: a zone change mid-range
        }
    };
    each(std::string(kAppointments) + kInRange + " GROUP BY day", true, [](Statement& st, ReportCounts& c) {
        c.appointments = st.integer(1);
        c.due = st.integer(2);
        c.no_shows = st.integer(3);
    });
    each(std::string(kSessions) + kInRange + kSessionSums, false, [](Statement& st, ReportCounts& c) {
        c.sessions = st.integer(1);
        c.held = st.integer(2);
        c.completed = st.integer(3);
        c.cancelled = st.integer(4);
        c.timed = st.integer(5);
        c.duration_seconds = st.integer(6);
        c.joined = st.integer(7);
        c.quality_reports = st.integer(8);
        c.quality_good = st.integer(9);
        c.quality_fair = st.integer(10);
        c.quality_poor = st.integer(11);
        c.rtt_ms_sum = st.real(12);
        c.loss_sum = st.real(13);
    });
    each(std::string(kRatings) + kInRange + " GROUP BY day, r.score", false, [](Statement& st, ReportCounts& c) {
        if (const auto score = st.integer(1); score >= 1 && score <= 5) c.ratings[std::size_t(score - 1)] = st.integer(2);
    });
    each(std::string(kRecordings) + kInRange + " GROUP BY day", false, [](Statement& st, ReportCounts& c) {
        c.recordings = st.integer(1);
        c.recorded_ms = st.integer(2);
    });
    each(std::string(kDeclined) + kInRange + " GROUP BY day", false,
         [](Statement& st, ReportCounts& c) { c.recording_declined = st.integer(1); });

    for (const auto& [day, counts] : by_day) {
        out.days.push_back({day, day, day, counts});
        out.totals += counts;
        const std::string week = iso_week(*domain::parse_date(day));
        if (out.weeks.empty() || out.weeks.back().label != week) out.weeks.push_back({week, day, day, {}});
        out.weeks.back().last_day = day;
        out.weeks.back().counts += counts;
    }
    return out;
}

}  // namespace consult::store
