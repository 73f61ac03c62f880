#include "pipelines/congestion.hpp"

#include <algorithm>
#include <cmath>

namespace consult::media {

BitrateController::BitrateController(CongestionLimits limits)
    : limits_(limits), target_(limits.start_kbps), estimate_(limits.start_kbps) {}

unsigned BitrateController::update(const LinkReport& r) {
    const double loss = std::clamp(r.fraction_lost, 0.0, 1.0);
    // A report weighs by the stretch of link it covers; a long silence followed by one
    // report must not swing the estimate unboundedly.
    const double seconds = std::clamp(r.interval_s, 0.0, 5.0);
    if (loss > 0.10) {
        estimate_ *= std::pow(1.0 - 0.5 * loss, seconds);
        clean_s_ = 0;
    } else if (loss < 0.02) {
        clean_s_ += seconds;
        // While video is off, probe back up faster so a recovered link gets it back soon.
        if (r.rtt_ms < 400) estimate_ *= std::pow(audio_only_ ? 1.25 : 1.08, seconds);
    }
    estimate_ = std::min<double>(estimate_, limits_.ceiling_kbps);

    if (!audio_only_ && estimate_ < limits_.floor_kbps) {
        audio_only_ = true;
        clean_s_ = 0;
    } else if (audio_only_ && estimate_ >= limits_.floor_kbps * 1.5 && clean_s_ >= 3.0) {
        audio_only_ = false;   // three clean seconds and headroom before video returns
    }
    if (audio_only_) {
        // Keep probing upwards from the floor while video is off.
        estimate_ = std::max<double>(estimate_, limits_.floor_kbps * 0.5);
    }
    target_ = unsigned(std::clamp<double>(estimate_, limits_.floor_kbps, limits_.ceiling_kbps));
    return target_;
}

std::vector<ReportBlock> report_blocks(std::span<const std::uint8_t> rtcp) {
    constexpr std::uint8_t kSenderReport = 200, kReceiverReport = 201;
    constexpr std::size_t kBlockSize = 24;
    std::vector<ReportBlock> out;
    const auto be32 = [&](std::size_t at) {
        return std::uint32_t(rtcp[at]) << 24 | std::uint32_t(rtcp[at + 1]) << 16 | std::uint32_t(rtcp[at + 2]) << 8 |
               std::uint32_t(rtcp[at + 3]);
    };
    std::size_t at = 0;
    while (at + 4 <= rtcp.size()) {
        if (rtcp[at] >> 6 != 2) break;                       // not RTCP version 2: stop
        const unsigned count = rtcp[at] & 0x1f;
        const std::uint8_t type = rtcp[at + 1];
        const std::size_t length = (std::size_t(rtcp[at + 2]) << 8 | rtcp[at + 3]) * 4 + 4;
        if (at + length > rtcp.size()) break;
        // Header, sender SSRC, and for an SR the 20-byte sender info.
        const std::size_t first = type == kSenderReport ? 28 : type == kReceiverReport ? 8 : 0;
        for (unsigned i = 0; first && i < count; ++i) {
            const std::size_t b = at + first + i * kBlockSize;
            if (b + kBlockSize > at + length) break;
            std::int32_t lost = std::int32_t(be32(b + 4) & 0xffffff);
            if (lost & 0x800000) lost -= 0x1000000;          // 24-bit two's complement
            out.push_back({be32(b), be32(b + 8), lost, be32(b + 12)});
        }
        at += length;
    }
    return out;
}

std::optional<LossSample> LossMeter::update(std::span<const StreamReport> reports) {
    std::uint64_t expected = 0, lost = 0;
    double interval_s = 0;
    for (const StreamReport& r : reports) {
        auto [it, added] = baseline_.try_emplace(r.block.ssrc, Baseline{r.block, r.arrived_us});
        if (added) continue;   // the first block only sets where counting starts
        Baseline& base = it->second;
        const std::int64_t advance = std::int64_t(r.block.ext_highest_seq) - std::int64_t(base.block.ext_highest_seq);
        if (advance == 0) continue;                            // nothing new about this stream
        if (advance < 0 || !r.counted) {                       // restarted, or not ours to judge now
            base = {r.block, r.arrived_us};
            continue;
        }
        const std::int64_t newly_lost = std::int64_t(r.block.cumulative_lost) - base.block.cumulative_lost;
        expected += std::uint64_t(advance);
        lost += std::uint64_t(std::clamp<std::int64_t>(newly_lost, 0, advance));
        interval_s = std::max(interval_s, double(r.arrived_us - base.arrived_us) / 1e6);
        base = {r.block, r.arrived_us};
    }
    if (expected == 0) return std::nullopt;
    return LossSample{double(lost) / double(expected), interval_s, expected};
}

}  // namespace consult::media
