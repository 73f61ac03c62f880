// The kiosk's day: a doctor's video appointments in a time range, with the patient's
// name and the session (if any) in one read.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace consult::store {

// [{id, starts_at, duration_minutes, consultation_type, status, patient: {id, name},
//   session: {id, status, room_name, started_at, ended_at, notes} | null}], by start time.
nlohmann::json doctor_day(Database& db, const std::string& doctor_id, const std::string& from_iso,
                          const std::string& to_iso);

}  // namespace consult::store
