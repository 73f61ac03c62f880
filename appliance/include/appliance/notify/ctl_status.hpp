// `consultctl status`: whether SMS, email and TURN are switched on, and what the last
// day's messages came to, read from the configuration, the credentials and the store
// (read-only), so it also works while consultd is down.
#pragma once

#include "appliance/config.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace consult::notify {

// {sms, email, turn: "on"|"off"|reason, last_24h: {"sms delivered": n, ...}, last_failure: {...}|null}
nlohmann::json messaging_status(const Config& config, const std::filesystem::path& state_dir);
std::string messaging_status_lines(const nlohmann::json& status);

}  // namespace consult::notify
