#include "appliance/http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace consult::http {

int RateLimiter::retry_after(const std::string& address, Clock::time_point now) {
    if (buckets_.size() > 10000) {
        // Forget idle addresses so a scan of many sources cannot grow this forever.
        std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > std::chrono::minutes(10); });
    }
    auto [it, fresh] = buckets_.try_emplace(address, Bucket{double(burst_), now});
    Bucket& b = it->second;
    const double rate = per_minute_ / 60.0;  // tokens per second
    b.tokens = std::min<double>(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate);
    b.last = now;
    if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
    }
    return std::max(1, int(std::ceil((1 - b.tokens) / rate)));
}

}  // namespace consult::http
