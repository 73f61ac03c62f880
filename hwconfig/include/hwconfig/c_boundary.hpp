// The exception firewall. Every entry from C into this program's C++ (a GLib timer,
// a libsoup or GStreamer signal, a pad probe, an idle callback) runs through
// at_boundary: an exception that gets this far is logged with the place it came
// from and counted, and never unwinds into C (which would end the process).
// Callers still catch what they can handle first, closing only what the failure
// concerns (a socket, a peer); this is the last line.
#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <utility>

namespace consult {

// Logs and counts one exception stopped at `where`. Thread-safe.
void report_at_boundary(const char* where, const char* what) noexcept;

// Exceptions stopped so far, by place (for /metrics).
std::map<std::string, unsigned long> boundary_failures();

// Runs f(); on an exception reports it and returns `fallback`.
template <class F, class R = std::invoke_result_t<F>>
    requires(!std::is_void_v<R>)
R at_boundary(const char* where, F&& f, R fallback) noexcept {
    try {
        return std::forward<F>(f)();
    } catch (const std::exception& e) {
        report_at_boundary(where, e.what());
    } catch (...) {
        report_at_boundary(where, "an exception of unknown type");
    }
    return fallback;
}

template <class F>
    requires std::is_void_v<std::invoke_result_t<F>>
void at_boundary(const char* where, F&& f) noexcept {
    try {
        std::forward<F>(f)();
    } catch (const std::exception& e) {
        report_at_boundary(where, e.what());
    } catch (...) {
        report_at_boundary(where, "an exception of unknown type");
    }
}

}  // namespace consult
