// Repeated wrong PINs lock a doctor (and the address they come from) out for a while.
// Plain C++ with an injected clock; kept in memory, so a restart of consultd clears it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace consult::kiosk {

class SignInGuard {
public:
    // `max_failures` wrong PINs within `lock_seconds` lock the key for `lock_seconds`.
    explicit SignInGuard(int max_failures = 5, std::int64_t lock_seconds = 300)
        : max_failures_(max_failures), lock_seconds_(lock_seconds) {}

    // Seconds until `key` may try again; 0 when it may try now.
    std::int64_t locked_for(const std::string& key, std::int64_t now) const;
    // Counts a wrong PIN; returns true when this failure locked the key.
    bool failed(const std::string& key, std::int64_t now);
    // Wrong PINs counted for `key` in the current window.
    int failures(const std::string& key) const;
    int max_failures() const { return max_failures_; }
    void succeeded(const std::string& key);

private:
    struct Entry {
        int failures = 0;
        std::int64_t first_at = 0, locked_until = 0;
    };
    int max_failures_;
    std::int64_t lock_seconds_;
    std::map<std::string, Entry> entries_;
};

}  // namespace consult::kiosk
