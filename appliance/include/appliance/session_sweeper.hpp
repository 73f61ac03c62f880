// Runs the clock's decisions (domain/sweeper.hpp) against the store: ends calls that
// ran past their time and records no-shows. Called from a main-loop timer.
#pragma once

#include "appliance/config.hpp"
#include "appliance/live_rooms.hpp"
#include "appliance/store/database.hpp"

#include <ctime>

namespace consult {

struct SweepResult {
    int ended = 0;
    int no_shows = 0;
};

// Each session it ends is told to `rooms` (its screens hear it, its media stops).
SweepResult sweep_sessions(store::Database& db, const Config::Sessions& limits, const LiveRooms& rooms, std::time_t now);

// Session counts, durations and no-shows from the store, in Prometheus text.
std::string session_metrics(store::Database& db);

}  // namespace consult
