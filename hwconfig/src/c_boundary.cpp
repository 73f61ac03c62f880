#include "hwconfig/c_boundary.hpp"

#include <glib.h>

#include <mutex>

namespace consult {

namespace {

std::mutex& lock() {
    static std::mutex m;
    return m;
}

std::map<std::string, unsigned long>& counts() {
    static std::map<std::string, unsigned long> c;
    return c;
}

}  // namespace

void report_at_boundary(const char* where, const char* what) noexcept {
    try {
        {
            std::lock_guard hold(lock());
            ++counts()[where];
        }
        g_log_structured("consult", G_LOG_LEVEL_WARNING, "CALLBACK", where, "MESSAGE",
                         "error stopped at %s: %s", where, what);
    } catch (...) {
        // Out of memory while reporting: nothing more can be done safely here.
    }
}

std::map<std::string, unsigned long> boundary_failures() {
    std::lock_guard hold(lock());
    return counts();
}

}  // namespace consult
