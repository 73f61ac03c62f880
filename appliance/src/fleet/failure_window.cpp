#include "appliance/fleet/failure_window.hpp"

#include <algorithm>
#include <string_view>

namespace consult::fleet {

namespace {

std::mutex g_window_mu;
std::shared_ptr<FailureWindow> g_window;

// Media events (pipelines' event_name) that mean the call lost something it should have had.
constexpr std::string_view kMediaFailures[] = {"peer-failed",   "camera-lost",   "branch-failed",
                                               "remote-description-refused", "nothing-usable", "recording-failed"};

}  // namespace

std::optional<Failure> failure_of(const std::string& metric,
                                  const std::vector<std::pair<std::string, std::string>>& labels) {
    if (metric == "consult_session_create_failures_total") return Failure::SessionCreate;
    if (metric == "consult_twilio_webhook_refusals_total") return Failure::WebhookRefused;
    if (metric == "consult_media_events_total")
        for (const auto& [key, value] : labels)
            if (key == "event" && std::find(std::begin(kMediaFailures), std::end(kMediaFailures), value) !=
                                      std::end(kMediaFailures))
                return Failure::Media;
    return std::nullopt;
}

void FailureWindow::add(Failure f, std::time_t now, long n) {
    if (n <= 0) return;
    const long hour = long(now / 3600);
    std::lock_guard lock(mu_);
    Bucket& b = buckets_[std::size_t(hour % kHours)];
    if (b.hour != hour) b = Bucket{hour, {}};
    b.counts[std::size_t(f)] += n;
}

FailureCounts FailureWindow::last_day(std::time_t now) const {
    const long hour = long(now / 3600);
    FailureCounts out;
    out.since = std::max(started_, std::time_t(hour - (kHours - 1)) * 3600);
    std::lock_guard lock(mu_);
    for (const Bucket& b : buckets_)
        if (b.hour > hour - kHours && b.hour <= hour)
            for (std::size_t i = 0; i < kFailureKinds; ++i) out.counts[i] += b.counts[i];
    return out;
}

void count_failures_into(std::shared_ptr<FailureWindow> window) {
    std::lock_guard lock(g_window_mu);
    g_window = std::move(window);
}

void note_count(const std::string& metric, const std::vector<std::pair<std::string, std::string>>& labels, double by) {
    const auto failure = failure_of(metric, labels);
    if (!failure) return;
    std::shared_ptr<FailureWindow> window;
    {
        std::lock_guard lock(g_window_mu);
        window = g_window;
    }
    if (window) window->add(*failure, std::time(nullptr), long(by));
}

}  // namespace consult::fleet
