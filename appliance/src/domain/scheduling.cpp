#include "appliance/domain/scheduling.hpp"

#include <algorithm>

namespace consult::domain {

std::optional<FieldError> validate_timing(const Timing& t) {
    if (t.day_of_week < 0 || t.day_of_week > 6)
        return FieldError{"day_of_week", "day_of_week must be 0 (Sunday) to 6 (Saturday)"};
    auto start = parse_clock(t.start_time);
    if (!start) return FieldError{"start_time", "start_time must be HH:MM (00:00-23:59)"};
    auto end = parse_clock(t.end_time);
    if (!end) return FieldError{"end_time", "end_time must be HH:MM (00:00-23:59)"};
    if (*start >= *end) return FieldError{"end_time", "end_time must be after start_time"};
    if (t.slot_duration_minutes < 5 || t.slot_duration_minutes > 240)
        return FieldError{"slot_duration_minutes", "slot_duration_minutes must be 5-240"};
    if (t.slot_duration_minutes > *end - *start)
        return FieldError{"slot_duration_minutes", "one slot is longer than the whole time window"};
    return std::nullopt;
}

std::optional<Timing> find_overlap(const Timing& t, const std::vector<Timing>& existing) {
    if (!t.is_active) return std::nullopt;
    auto s = parse_clock(t.start_time), e = parse_clock(t.end_time);
    if (!s || !e) return std::nullopt;
    for (const auto& o : existing) {
        if (o.id == t.id || !o.is_active || o.doctor_id != t.doctor_id || o.day_of_week != t.day_of_week) continue;
        auto os = parse_clock(o.start_time), oe = parse_clock(o.end_time);
        if (os && oe && *s < *oe && *os < *e) return o;
    }
    return std::nullopt;
}

std::vector<Slot> free_slots(const std::vector<Timing>& timings, const Date& date, const std::vector<Interval>& booked) {
    std::vector<Slot> out;
    const int dow = day_of_week(date);
    for (const auto& t : timings) {
        if (!t.is_active || t.day_of_week != dow || validate_timing(t)) continue;
        const int start = *parse_clock(t.start_time), end = *parse_clock(t.end_time);
        for (int m = start; m + t.slot_duration_minutes <= end; m += t.slot_duration_minutes) {
            const std::time_t s = local_instant(date, m);
            const std::time_t e = s + std::time_t(t.slot_duration_minutes) * 60;
            bool taken = std::any_of(booked.begin(), booked.end(),
                                     [&](const Interval& b) { return b.start < e && s < b.end; });
            if (!taken) out.push_back({s, t.slot_duration_minutes});
        }
    }
    std::sort(out.begin(), out.end(), [](const Slot& a, const Slot& b) { return a.start < b.start; });
    return out;
}

}  // namespace consult::domain
