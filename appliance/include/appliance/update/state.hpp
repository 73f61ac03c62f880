// What the updater remembers between its runs and across restarts (<state>/update/state.json,
// on the encrypted data partition, so both slots see it): the install waiting for its
// restart, the versions that failed their boot here, and the last attempt's outcome, which
// `consultctl update status`, the kiosk's Settings and the fleet report show.
#pragma once

#include "appliance/update/decision.hpp"
#include "hwconfig/expected.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <set>
#include <string>

namespace consult::update {

// The outcome of one attempt, as the report names it.
enum class Result {
    Installed,       // the new version runs (after its restart) or waits for the restart
    RolledBack,      // it failed its boot check; the box came back on the version before
    Refused,         // the release or the bundle was not accepted (the reason says which check)
    Failed,          // the cloud, the network or the disk failed; tried again on the next run
    Postponed,       // a call was running or the maintenance window was closed
};
const char* result_name(Result r);   // installed, rolled-back, refused, failed, postponed

struct Attempt {
    std::string at;          // UTC, as the store writes times (domain::now_iso)
    std::string version;     // what was tried; empty when the cloud offered nothing usable
    Result result = Result::Failed;
    std::string reason;      // one line
    bool operator==(const Attempt&) const = default;
};

struct PendingInstall {
    std::string version;       // installed into the other slot
    std::string from_version;  // what ran when it was installed
    std::string boot_id;       // the boot it was installed in: a later boot not on `version` rolled back
    bool operator==(const PendingInstall&) const = default;
};

struct UpdateState {
    std::optional<PendingInstall> pending;
    std::set<std::string> rolled_back;       // never offered again on this box (at most kMaxRolledBack)
    std::optional<Attempt> last;
    // The boot in which the booted slot was last marked good (consult-mark-good.service runs
    // `consultctl update mark-good` after the boot check passed): this boot's id, or not.
    std::string good_boot_id;
    UpdaterMemory memory() const;
    bool operator==(const UpdateState&) const = default;
};

inline constexpr std::size_t kMaxRolledBack = 64;

std::filesystem::path state_file(const std::filesystem::path& state_dir);   // <state>/update/state.json

nlohmann::json to_json(const UpdateState& s);
// A file this software wrote; anything else is refused with the reason (never thrown).
expected<UpdateState, std::string> state_from_json(const nlohmann::json& j);

// A missing file is a box that never updated: an empty state.
expected<UpdateState, std::string> load_state(const std::filesystem::path& file);
// Written whole or not at all (a temporary file, fsync, rename, the folder fsync'd).
expected<void, std::string> save_state(const std::filesystem::path& file, const UpdateState& s);

// After a restart: what became of the install waiting for it. Running its version, it is
// installed; running anything else in another boot, the new slot failed its boot check and
// the box fell back, so the version is remembered as rolled back. Returns the attempt it
// settled (already stored in `s.last`), nothing when there was nothing to settle.
std::optional<Attempt> settle_pending(UpdateState& s, const std::string& running_version,
                                      const std::string& boot_id, const std::string& now);

}  // namespace consult::update
