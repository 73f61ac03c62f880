// Failures the store already keeps with their time, counted over a period for the fleet
// report: SMS that ended failed, and status callbacks the clinic's backend refused or that
// were given up. Survives restarts, unlike the in-memory counts (fleet/failure_window.hpp).
#pragma once

#include "appliance/store/database.hpp"

#include <string>

namespace consult::store {

// SMS whose last state (failed, undelivered, rejected, canceled) was reached at or after `since`
// (UTC, as the store writes times). A failed SMS sent again and delivered is no longer counted.
long failed_sms_since(Database& db, const std::string& since);

// Status callbacks that ended refused (4xx) or failed (given up) at or after `since`.
long refused_callbacks_since(Database& db, const std::string& since);

}  // namespace consult::store
