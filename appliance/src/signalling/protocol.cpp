#include "appliance/signalling/protocol.hpp"

#include <algorithm>

namespace consult::signalling {

bool FloodGuard::allow(std::int64_t now_us) {
    if (last_us_ != 0) tokens_ = std::min(burst_, tokens_ + double(now_us - last_us_) / 1e6 * rate_);
    last_us_ = now_us;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
}

std::string quality_level(double rtt_ms, double fraction_lost) {
    if (fraction_lost > 0.08 || rtt_ms > 600) return "poor";
    if (fraction_lost > 0.02 || rtt_ms > 250) return "fair";
    return "good";
}

}  // namespace consult::signalling
