// Video consultation timings (when a doctor takes video calls) and the free slots
// they leave once booked appointments are taken out.
#pragma once

#include "appliance/domain/time.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace consult::domain {

struct Timing {
    std::string id;
    std::string doctor_id;
    int day_of_week = 0;          // 0 = Sunday
    std::string start_time;       // "HH:MM", clinic local time
    std::string end_time;
    int slot_duration_minutes = 30;
    bool is_active = true;
};

struct FieldError {
    std::string field;
    std::string message;
};

// Day 0-6, valid clock times, start < end, slot 5-240 min and no longer than the window.
std::optional<FieldError> validate_timing(const Timing& t);
// The first active timing of the same doctor and day whose hours overlap `t`'s.
std::optional<Timing> find_overlap(const Timing& t, const std::vector<Timing>& existing);

struct Interval {
    std::time_t start;
    std::time_t end;
};

struct Slot {
    std::time_t start;
    int minutes;
};

// Slots of the active timings on `date` (clinic local) that overlap no booked interval.
std::vector<Slot> free_slots(const std::vector<Timing>& doctor_timings, const Date& date,
                             const std::vector<Interval>& booked);

}  // namespace consult::domain
