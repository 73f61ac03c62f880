// Failures that only metrics counters record (process-lifetime counters, no table keeps
// them): session create failures, media failures and refused Twilio webhooks, counted again
// here by the hour, in memory, over the last day. A restart starts these from zero; the
// report says since when they count. (SMS failures and refused status callbacks are in the
// store and are counted there: status_report.hpp.)
#pragma once

#include <array>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace consult::fleet {

enum class Failure { SessionCreate, Media, WebhookRefused };
inline constexpr std::size_t kFailureKinds = 3;

// Which metrics counter increments are failures: consult_session_create_failures_total,
// consult_twilio_webhook_refusals_total, and consult_media_events_total of a failing kind
// (a peer failed, the camera was lost, a branch failed, an answer or every codec refused,
// a recording failed). Audio-only and a refused picture are how a call adapts, not failures.
std::optional<Failure> failure_of(const std::string& metric,
                                  const std::vector<std::pair<std::string, std::string>>& labels);

struct FailureCounts {
    std::array<long, kFailureKinds> counts{};
    std::time_t since = 0;   // the earliest time these counts cover
    long of(Failure f) const { return counts[std::size_t(f)]; }
};

class FailureWindow {
public:
    explicit FailureWindow(std::time_t started) : started_(started) {}

    void add(Failure f, std::time_t now, long n = 1);
    // This hour and the 23 before it (a day, to the hour), never before the process started.
    FailureCounts last_day(std::time_t now) const;

private:
    struct Bucket {
        long hour = -1;   // hours since the epoch
        std::array<long, kFailureKinds> counts{};
    };
    static constexpr long kHours = 24;
    mutable std::mutex mu_;   // metrics may be counted off the main loop
    std::array<Bucket, kHours> buckets_{};
    std::time_t started_;
};

// Where Metrics::count sends its increments as well: the daemon's window (one daemon per
// process); nothing is kept until one is set, and after it is set to null.
void count_failures_into(std::shared_ptr<FailureWindow> window);
void note_count(const std::string& metric, const std::vector<std::pair<std::string, std::string>>& labels, double by);

}  // namespace consult::fleet
