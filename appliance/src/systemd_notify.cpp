#include "appliance/systemd_notify.hpp"

#include "appliance/log.hpp"
#include "hwconfig/c_boundary.hpp"

#include <systemd/sd-daemon.h>

namespace consult {

SystemdNotifier::~SystemdNotifier() {
    if (timer_) g_source_remove(timer_);
}

void SystemdNotifier::ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void SystemdNotifier::status(const std::string& status) {
    sd_notify(0, ("STATUS=" + status).c_str());
}

void SystemdNotifier::stopping(const std::string& status) {
    sd_notify(0, ("STOPPING=1\nSTATUS=" + status).c_str());
}

void SystemdNotifier::start_watchdog(std::function<bool()> healthy) {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_usec_ = usec;
    healthy_ = std::move(healthy);
    sd_notify(0, "WATCHDOG=1");
    timer_ = g_timeout_add(guint(usec / 2 / 1000), [](gpointer p) -> gboolean {
        auto* self = static_cast<SystemdNotifier*>(p);
        const bool ok = at_boundary("watchdog", [&] { return !self->healthy_ || self->healthy_(); }, false);
        if (ok) {
            sd_notify(0, "WATCHDOG=1");
        } else if (!self->hungry_) {
            log::error("not feeding the watchdog: the HTTP listener no longer accepts connections");
            sd_notify(0, "STATUS=unhealthy: not accepting connections; waiting for the watchdog to restart me");
        }
        self->hungry_ = !ok;
        return G_SOURCE_CONTINUE;
    }, this);
}

}  // namespace consult
