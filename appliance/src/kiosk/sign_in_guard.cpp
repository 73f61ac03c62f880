#include "appliance/kiosk/sign_in_guard.hpp"

namespace consult::kiosk {

std::int64_t SignInGuard::locked_for(const std::string& key, std::int64_t now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.locked_until <= now) return 0;
    return it->second.locked_until - now;
}

bool SignInGuard::failed(const std::string& key, std::int64_t now) {
    Entry& e = entries_[key];
    // Failures older than a lock period are forgotten, and so is an expired lock.
    if (e.locked_until && e.locked_until <= now) e = {};
    if (e.failures && now - e.first_at >= lock_seconds_) e = {};
    if (!e.failures) e.first_at = now;
    if (++e.failures < max_failures_ || e.locked_until > now) return false;
    e.locked_until = now + lock_seconds_;
    return true;
}

int SignInGuard::failures(const std::string& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? 0 : it->second.failures;
}

void SignInGuard::succeeded(const std::string& key) { entries_.erase(key); }

}  // namespace consult::kiosk
