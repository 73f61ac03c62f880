#include "pipelines/congestion.hpp"

#include <algorithm>

namespace consult::media {

BitrateController::BitrateController(CongestionLimits limits)
    : limits_(limits), target_(limits.start_kbps), estimate_(limits.start_kbps) {}

unsigned BitrateController::update(const LinkReport& r) {
    const double loss = std::clamp(r.fraction_lost, 0.0, 1.0);
    if (loss > 0.10) {
        estimate_ *= 1.0 - 0.5 * loss;
        clean_reports_ = 0;
    } else if (loss < 0.02) {
        ++clean_reports_;
        // While video is off, probe back up faster so a recovered link gets it back soon.
        if (r.rtt_ms < 400) estimate_ *= audio_only_ ? 1.25 : 1.08;
    }
    estimate_ = std::min<double>(estimate_, limits_.ceiling_kbps);

    if (!audio_only_ && estimate_ < limits_.floor_kbps) {
        audio_only_ = true;
        clean_reports_ = 0;
    } else if (audio_only_ && estimate_ >= limits_.floor_kbps * 1.5 && clean_reports_ >= 3) {
        audio_only_ = false;   // three clean reports and headroom before video returns
    }
    if (audio_only_) {
        // Keep probing upwards from the floor while video is off.
        estimate_ = std::max<double>(estimate_, limits_.floor_kbps * 0.5);
    }
    target_ = unsigned(std::clamp<double>(estimate_, limits_.floor_kbps, limits_.ceiling_kbps));
    return target_;
}

}  // namespace consult::media
