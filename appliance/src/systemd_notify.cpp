#include "appliance/systemd_notify.hpp"

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

void SystemdNotifier::start_watchdog() {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_usec_ = usec;
    sd_notify(0, "WATCHDOG=1");
    timer_ = g_timeout_add(guint(usec / 2 / 1000), [](gpointer) -> gboolean {
        sd_notify(0, "WATCHDOG=1");
        return G_SOURCE_CONTINUE;
    }, nullptr);
}

}  // namespace consult
