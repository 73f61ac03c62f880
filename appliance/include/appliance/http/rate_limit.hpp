// A token bucket per client address, for the endpoints worth brute-forcing.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace consult::http {

class RateLimiter {
public:
    RateLimiter(int per_minute, int burst) : per_minute_(per_minute), burst_(burst) {}
    using Clock = std::chrono::steady_clock;

    // 0 when allowed, else the seconds to wait before the next try.
    int retry_after(const std::string& address, Clock::time_point now = Clock::now());

private:
    struct Bucket { double tokens; Clock::time_point last; };
    int per_minute_;
    int burst_;
    std::map<std::string, Bucket> buckets_;
};

}  // namespace consult::http
