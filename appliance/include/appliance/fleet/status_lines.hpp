// The fleet report in `consultctl status`: fetched from consultd (GET /api/system/fleet-status,
// with a short-lived admin token signed by the box's own key) and printed as lines.
#pragma once

#include "appliance/config.hpp"
#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace consult::fleet {

// The route's answer, or why there is none (no key to sign with, consultd refused or not answering).
expected<nlohmann::json, std::string> daemon_fleet_status(const Config& config, const std::filesystem::path& state_dir);

// "booted slot:", "last update:", "uptime:", "failures (24 h):", "fleet report:" lines; any
// field missing or of the wrong type is shown as "?".
std::string fleet_status_lines(const nlohmann::json& status);

// "3d 4h", "2h 5m", "42s".
std::string duration_text(long long seconds);

}  // namespace consult::fleet
