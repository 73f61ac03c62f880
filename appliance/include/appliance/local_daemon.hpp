// consultctl's way to the consultd on this box: its address on loopback, and a short-lived
// admin token signed with the box's own key for the routes that want one.
#pragma once

#include "appliance/config.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace consult {

// http://HOST:PORT<path> as this box reaches its consultd ([http] bind 0.0.0.0 is 127.0.0.1).
std::string local_daemon_url(const Config& config, const std::string& path = "");

// An admin token for `identity`, valid five minutes, signed with the key consultd made;
// nothing when there is none (consultd never started) or it cannot be read.
std::optional<std::string> local_admin_token(const std::filesystem::path& state_dir,
                                             const std::string& identity = "consultctl");

}  // namespace consult
