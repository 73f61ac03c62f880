// What the cloud sync remembers between runs: read cursors per table and what
// status shows (last pull/push, last error, whether re-pairing is needed).
// Kept in <state-dir>/cloud-sync.json, written atomically; the rows themselves live in SQLite.
#pragma once

#include "appliance/cloud/postgrest.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace consult::cloud {

struct SyncState {
    std::map<std::string, Cursor> cursors;          // table → last row read
    std::optional<std::string> last_pull_at;        // last complete, successful pull (ISO UTC)
    std::optional<std::string> last_push_at;        // last push that the cloud accepted
    std::optional<std::string> last_error;          // short, no row contents
    std::optional<std::string> last_error_at;
    bool repair_needed = false;                     // the cloud refused our key or token (401/403)
    std::string repair_reason;
    std::string paired_fingerprint;                 // which credentials were refused (a hash, never the secret)
    long pulled_rows = 0, pushed_rows = 0;

    nlohmann::json to_json() const;
    static SyncState from_json(const nlohmann::json& j);

    static std::filesystem::path file(const std::filesystem::path& state_dir);
    static SyncState load(const std::filesystem::path& state_dir);   // empty state when absent or unreadable
    bool save(const std::filesystem::path& state_dir) const;         // false when it could not be written
};

// A short, non-reversible tag for a pair of credentials (to notice re-pairing).
std::string credentials_fingerprint(const std::string& api_key, const std::string& device_token);

}  // namespace consult::cloud
