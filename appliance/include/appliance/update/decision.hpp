// What the updater does with the cloud's offer, decided without I/O: the running version,
// the offered release (or none) and what this box remembers of earlier updates.
#pragma once

#include "appliance/update/release.hpp"

#include <optional>
#include <set>
#include <string>
#include <variant>

namespace consult::update {

struct UpdaterMemory {
    std::set<std::string> rolled_back;      // versions that failed their boot here: never tried again
    std::optional<std::string> pending;     // installed into the other slot, waiting for the reboot
};

struct UpToDate {};
struct Install { Release release; };
struct SkipRolledBack { std::string version; };
struct AlreadyPending { std::string version; };

using Decision = std::variant<UpToDate, Install, SkipRolledBack, AlreadyPending>;

// Any offered version other than the running one is installed, older ones too: the cloud
// decides what a box runs (a pin may take it back), the box never compares versions.
Decision decide(const std::string& running_version, const std::optional<Release>& offered,
                const UpdaterMemory& memory);

}  // namespace consult::update
