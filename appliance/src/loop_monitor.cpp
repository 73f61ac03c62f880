#include "appliance/loop_monitor.hpp"

#include <algorithm>
#include <cstdio>

namespace consult {

LoopMonitor::LoopMonitor() {
    expected_us_ = g_get_monotonic_time() + kPeriodMs * 1000;
    timer_ = g_timeout_add(kPeriodMs, [](gpointer p) -> gboolean {
        static_cast<LoopMonitor*>(p)->tick();
        return G_SOURCE_CONTINUE;
    }, this);
}

LoopMonitor::~LoopMonitor() { g_source_remove(timer_); }

void LoopMonitor::tick() {
    const gint64 now = g_get_monotonic_time();
    const double late_ms = std::max<double>(0, double(now - expected_us_) / 1000.0);
    expected_us_ = now + kPeriodMs * 1000;
    worst_ms_ = std::max(worst_ms_, late_ms);
    ++ticks_;
    sum_ms_ += late_ms;
    std::size_t i = 0;
    while (i < kBoundsMs.size() && late_ms > kBoundsMs[i]) ++i;
    ++counts_[i];
}

std::string LoopMonitor::metrics_text() const {
    char buf[64];
    std::string o = "# HELP consult_main_loop_stall_seconds How late the main loop ran a 50 ms timer.\n"
                    "# TYPE consult_main_loop_stall_seconds histogram\n";
    unsigned long cumulative = 0;
    for (std::size_t i = 0; i < kBoundsMs.size(); ++i) {
        cumulative += counts_[i];
        std::snprintf(buf, sizeof buf, "%g", kBoundsMs[i] / 1000.0);
        o += "consult_main_loop_stall_seconds_bucket{le=\"" + std::string(buf) + "\"} " + std::to_string(cumulative) + "\n";
    }
    o += "consult_main_loop_stall_seconds_bucket{le=\"+Inf\"} " + std::to_string(ticks_) + "\n";
    std::snprintf(buf, sizeof buf, "%.6f", sum_ms_ / 1000.0);
    o += "consult_main_loop_stall_seconds_sum " + std::string(buf) + "\n";
    o += "consult_main_loop_stall_seconds_count " + std::to_string(ticks_) + "\n";
    std::snprintf(buf, sizeof buf, "%.6f", worst_ms_ / 1000.0);
    o += "# HELP consult_main_loop_stall_max_seconds The longest the main loop was late since start.\n"
         "# TYPE consult_main_loop_stall_max_seconds gauge\nconsult_main_loop_stall_max_seconds " + std::string(buf) + "\n";
    return o;
}

}  // namespace consult
