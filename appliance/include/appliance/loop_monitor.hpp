// How late the main loop runs: a timer that should fire every 50 ms records how much
// later it did. The worst stall and a histogram go to /metrics, so a benchmark (or an
// operator) sees the loop's longest wait, e.g. while another process holds SQLite.
#pragma once

#include <glib.h>

#include <array>
#include <string>

namespace consult {

class LoopMonitor {
public:
    LoopMonitor();
    ~LoopMonitor();
    LoopMonitor(const LoopMonitor&) = delete;
    LoopMonitor& operator=(const LoopMonitor&) = delete;

    double worst_ms() const { return worst_ms_; }
    std::string metrics_text() const;

private:
    static constexpr int kPeriodMs = 50;
    static constexpr std::array<double, 7> kBoundsMs{5, 10, 25, 50, 100, 250, 1000};
    void tick();

    guint timer_ = 0;
    gint64 expected_us_ = 0;
    double worst_ms_ = 0;
    std::array<unsigned long, kBoundsMs.size() + 1> counts_{};
    unsigned long ticks_ = 0;
    double sum_ms_ = 0;
};

}  // namespace consult
