// Bitrate from the remote link: back off on loss, creep up when clean, and drop
// to audio only below the floor (with hysteresis so it does not flap). The loss
// comes from the remote's RTCP receiver report blocks about what we send.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace consult::media {

struct CongestionLimits {
    unsigned floor_kbps = 150;     // below this, video stops
    unsigned ceiling_kbps = 2500;
    unsigned start_kbps = 1200;
};

struct LinkReport {
    double fraction_lost;      // 0..1 over the packets the report covers
    double rtt_ms;
    double interval_s = 1.0;   // how long a stretch of the link the report covers
};

class BitrateController {
public:
    explicit BitrateController(CongestionLimits limits);

    // One receiver report → the new target. The rules are per second of link the
    // report covers (a report of 5 s weighs like five of 1 s, at most 5 s counts):
    // loss over 10% cuts by half the loss share; under 2% grows by 8% (25% while
    // audio only); a long RTT holds growth. Video comes back after 3 s of clean
    // reports in a row with the estimate at 1.5× the floor.
    unsigned update(const LinkReport& r);

    unsigned target_kbps() const { return target_; }
    bool audio_only() const { return audio_only_; }

private:
    CongestionLimits limits_;
    unsigned target_;
    double estimate_;           // what the link seems to carry, may fall below the floor
    bool audio_only_ = false;
    double clean_s_ = 0;        // seconds of clean reports in a row
};

// One RTCP report block (RFC 3550 6.4.1): a receiver's cumulative view of one stream.
struct ReportBlock {
    std::uint32_t ssrc = 0;             // the stream reported on
    std::uint32_t ext_highest_seq = 0;  // extended highest sequence number received
    std::int32_t cumulative_lost = 0;   // may go negative with duplicates
    std::uint32_t jitter = 0;           // interarrival jitter, in timestamp units
};

// The report blocks of every SR and RR in a (decrypted) compound RTCP packet.
std::vector<ReportBlock> report_blocks(std::span<const std::uint8_t> rtcp);

// The newest report block about one of our streams, as the stats poll sees it.
struct StreamReport {
    ReportBlock block;
    std::int64_t arrived_us = 0;   // monotonic time the block arrived
    bool counted = true;           // false: we are not sending this stream now
};

struct LossSample {
    double fraction_lost = 0;      // lost / expected, pooled over the fresh streams
    double interval_s = 0;         // the longest stretch between a stream's reports
    std::uint64_t expected = 0;    // packets the sample covers
};

// Loss from the cumulative counters of successive report blocks per stream:
// Δlost / Δexpected (RFC 3550 A.3), not the blocks' own fraction-lost, which is
// only good for the reporter's interval and zero on a repeated block. A stream
// with no new block since the last sample gives nothing; a stream not counted
// only moves its baseline, so its next sample covers what it sends afterwards.
class LossMeter {
public:
    // Nothing when no counted stream has a fresh report.
    std::optional<LossSample> update(std::span<const StreamReport> reports);

private:
    struct Baseline {
        ReportBlock block;
        std::int64_t arrived_us = 0;
    };
    std::map<std::uint32_t, Baseline> baseline_;   // by SSRC
};

}  // namespace consult::media
