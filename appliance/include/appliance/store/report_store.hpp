// The Reports screen's numbers (seed §11): for local days [from, to), per day, per ISO
// week and in all, computed from the tables as they are (no report tables). A
// consultation counts on the local day of its appointment.
#pragma once

#include "appliance/domain/time.hpp"
#include "appliance/store/database.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace consult::store {

// Sums only, so days add up to weeks and totals; the rates and averages are derived.
struct ReportCounts {
    // Video and hybrid appointments, cancelled ones left out.
    std::int64_t appointments = 0;
    std::int64_t due = 0;                 // of those, whose start has passed
    std::int64_t no_shows = 0;
    // Video consultations (sessions) and what became of them.
    std::int64_t sessions = 0;
    std::int64_t held = 0;                // the patient was admitted (the call started)
    std::int64_t completed = 0;
    std::int64_t cancelled = 0;
    std::int64_t timed = 0;               // completed with a duration
    std::int64_t duration_seconds = 0;    // their sum
    // Held, both sides joined, and the patient's audio or video reached the appliance
    // (the patient's stored connection report says it decoded some).
    std::int64_t joined = 0;
    // The patient's link as last reported during the call (one report per session).
    std::int64_t quality_reports = 0;
    std::int64_t quality_good = 0, quality_fair = 0, quality_poor = 0;
    double rtt_ms_sum = 0, loss_sum = 0;
    std::array<std::int64_t, 5> ratings{};   // [0] is 1 star
    std::int64_t recordings = 0;          // sessions with a recording (deleted ones too)
    std::int64_t recorded_ms = 0;
    std::int64_t recording_declined = 0;  // patients who said no when asked

    ReportCounts& operator+=(const ReportCounts& o);

    std::optional<double> no_show_rate() const;          // no_shows / due
    std::optional<double> average_duration_seconds() const;
    std::optional<double> join_success_rate() const;     // joined / held
    std::optional<double> average_rtt_ms() const;
    std::optional<double> average_loss() const;
    std::int64_t rating_count() const;
    std::optional<double> average_rating() const;
};

struct ReportPeriod {
    std::string label;        // "2026-11-24", or the ISO week "2026-W48"
    std::string first_day, last_day;   // inclusive, within the report's range
    ReportCounts counts;
};

struct Report {
    std::string from, to;     // as asked: [from, to)
    std::vector<ReportPeriod> days;    // every day of the range, empty ones too
    std::vector<ReportPeriod> weeks;   // ISO weeks (Monday first), cut to the range
    ReportCounts totals;
};

// `now`: what "due" is measured against. The range is the caller's to bound.
Report build_report(Database& db, const domain::Date& from, const domain::Date& to, std::time_t now);

// Calendar helpers the report needs (proleptic Gregorian, no time zone).
domain::Date add_days(const domain::Date& d, int days);
int days_between(const domain::Date& from, const domain::Date& to);   // to - from
std::string iso_week(const domain::Date& d);                           // "2026-W48"

}  // namespace consult::store
