// The sd_notify protocol: READY=1 once we really serve, STATUS= one line, and
// WATCHDOG=1 from a main-loop timer so that a stuck loop gets us restarted.
#pragma once

#include <glib.h>

#include <functional>
#include <string>

namespace consult {

class SystemdNotifier {
public:
    SystemdNotifier() = default;
    ~SystemdNotifier();
    SystemdNotifier(const SystemdNotifier&) = delete;
    SystemdNotifier& operator=(const SystemdNotifier&) = delete;

    void ready(const std::string& status);
    void status(const std::string& status);
    void stopping(const std::string& status);
    // Starts pinging at half of WATCHDOG_USEC when the unit has a watchdog, but only
    // while `healthy` says so (the loop turning is not enough: a listener that no
    // longer accepts is a daemon to restart).
    void start_watchdog(std::function<bool()> healthy);
    guint64 watchdog_usec() const { return watchdog_usec_; }

private:
    std::function<bool()> healthy_;
    bool hungry_ = false;
    guint timer_ = 0;
    guint64 watchdog_usec_ = 0;
};

}  // namespace consult
