// Runs the clock's decisions (domain/sweeper.hpp) against the store: ends calls that
// ran past their time and records no-shows. Called from a main-loop timer.
#pragma once

#include "appliance/context.hpp"

#include <ctime>

namespace consult {

struct SweepResult {
    int ended = 0;
    int no_shows = 0;
};

SweepResult sweep_sessions(ApplianceContext& ctx, std::time_t now);

// Session counts, durations and no-shows from the store, in Prometheus text.
std::string session_metrics(store::Database& db);

}  // namespace consult
