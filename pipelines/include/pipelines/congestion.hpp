// Bitrate from the remote link: back off on loss, creep up when clean, and drop
// to audio only below the floor (with hysteresis so it does not flap).
#pragma once

namespace consult::media {

struct CongestionLimits {
    unsigned floor_kbps = 150;     // below this, video stops
    unsigned ceiling_kbps = 2500;
    unsigned start_kbps = 1200;
};

struct LinkReport {
    double fraction_lost;   // 0..1 since the last report
    double rtt_ms;
};

class BitrateController {
public:
    explicit BitrateController(CongestionLimits limits);

    // One stats interval's report → the new target. Loss over 10% cuts by half the
    // loss share; under 2% grows by 8%; a long RTT holds growth.
    unsigned update(const LinkReport& r);

    unsigned target_kbps() const { return target_; }
    bool audio_only() const { return audio_only_; }

private:
    CongestionLimits limits_;
    unsigned target_;
    double estimate_;           // what the link seems to carry, may fall below the floor
    bool audio_only_ = false;
    int clean_reports_ = 0;
};

}  // namespace consult::media
