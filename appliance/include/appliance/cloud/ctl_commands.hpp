// consultctl's cloud commands: `pair`, `sync --now`, and the cloud lines of `status`.
#pragma once

#include "appliance/config.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace consult::cloud {

struct PairOptions {
    std::optional<std::filesystem::path> api_key_file;        // else read from stdin (first line)
    std::optional<std::filesystem::path> device_token_file;   // else read from stdin (next line)
    bool check = true;                                        // try them against the cloud before storing
};

// Checks the credentials against [cloud] url (a read of this clinic's row), stores them
// 0600 in the state dir's credentials and asks a running consultd to sync. Exit code.
int pair(const Config& config, const std::filesystem::path& state_dir, const PairOptions& options);

// Asks the running consultd to sync now and waits for that run to end; when consultd is
// not running, runs one sync in this process. Prints the outcome. Exit code.
int sync_now(const Config& config, const std::filesystem::path& state_dir);

// GET /api/system/cloud from the running consultd (nothing when it does not answer).
std::optional<nlohmann::json> daemon_cloud_status(const Config& config);
// The lines `consultctl status` prints for it.
std::string status_lines(const nlohmann::json& cloud);

}  // namespace consult::cloud
