// What the metrics say of past sessions: counts by day and status, how long completed
// calls lasted, and how many appointments were no-shows.
#pragma once

#include "appliance/store/database.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace consult::store {

// Sessions by the local day of their appointment and their status, the last 7 days.
struct SessionsOnDay {
    std::string day, status;
    std::int64_t count = 0;
};
std::vector<SessionsOnDay> sessions_by_day(Database& db);

// Completed sessions with a duration: how many lasted at most each bound (seconds),
// how many in all, and their total seconds.
struct DurationCounts {
    std::vector<std::int64_t> at_most;   // one per bound, in the bounds' order
    std::int64_t count = 0, sum_seconds = 0;
};
DurationCounts completed_durations(Database& db, std::span<const int> bounds);

std::int64_t no_show_count(Database& db);

}  // namespace consult::store
