// `consultd --demo`: a clinic, two doctors, weekly video timings and video
// appointments every 30 minutes in working hours today and tomorrow. Idempotent:
// every row has a name-derived id, so a second run inserts nothing new.
#pragma once

#include "appliance/store/database.hpp"

#include <chrono>

namespace consult::store {

struct DemoIds {
    static constexpr const char* clinic = "5d0c1a1e-0000-4000-8000-000000000001";
    static constexpr const char* doctor_a = "5d0c1a1e-0000-4000-8000-00000000d0c1";
    static constexpr const char* doctor_b = "5d0c1a1e-0000-4000-8000-00000000d0c2";
};

// Returns the number of rows inserted.
int seed_demo(Database& db, std::chrono::system_clock::time_point now);

// A stable UUID derived from a label (same label, same id).
std::string name_uuid(std::string_view label);

}  // namespace consult::store
