#include "appliance/update/decision.hpp"

namespace consult::update {

Decision decide(const std::string& running_version, const std::optional<Release>& offered,
                const UpdaterMemory& memory) {
    if (!offered || offered->version == running_version) return UpToDate{};
    // Before `pending`: a version that failed here once stays refused, whatever else is remembered.
    if (memory.rolled_back.contains(offered->version)) return SkipRolledBack{offered->version};
    if (memory.pending == offered->version) return AlreadyPending{offered->version};
    return Install{*offered};
}

}  // namespace consult::update
