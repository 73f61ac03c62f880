#include "appliance/room/waiting_room.hpp"

#include <algorithm>

namespace consult::room {

const char* reason_code(WaitReason r) {
    switch (r) {
    case WaitReason::FirstVisit: return "first_visit";
    case WaitReason::AnotherDevice: return "another_device";
    case WaitReason::AfterLeaving: return "after_leaving";
    case WaitReason::AfterRejoinWindow: return "after_rejoin_window";
    }
    return "first_visit";
}

const char* reason_text(WaitReason r) {
    switch (r) {
    case WaitReason::FirstVisit: return "waiting to be let in";
    case WaitReason::AnotherDevice: return "opened on another device while the call is open on the first";
    case WaitReason::AfterLeaving: return "left the call and opened the link again";
    case WaitReason::AfterRejoinWindow: return "the connection dropped and came back too late to rejoin by itself";
    }
    return "";
}

bool WaitingRoom::is_waiting(const ScreenId& screen) const {
    return std::any_of(waiting_.begin(), waiting_.end(), [&](const WaitingScreen& w) { return w.screen == screen; });
}

void WaitingRoom::remove_waiting(const ScreenId& screen) {
    for (std::size_t i = 0; i < waiting_.size(); ++i)
        if (waiting_[i].screen == screen) {
            waiting_.erase(waiting_.begin() + std::ptrdiff_t(i));
            devices_.erase(devices_.begin() + std::ptrdiff_t(i));
            return;
        }
}

WaitingRoom::Arrival WaitingRoom::arrive(const ScreenId& screen, const std::string& device, bool call_open,
                                         Clock::time_point now) {
    expire(now);
    Arrival out;
    const bool same_device = admitted_ && !device.empty() && admitted_->device == device;
    if (call_open && same_device) {
        out.admitted = true;
        out.rejoin = true;
        if (admitted_->screen && *admitted_->screen != screen) out.replaced = admitted_->screen;
        admitted_->screen = screen;
        admitted_->dropped_at.reset();
        return out;
    }
    // The same device waiting twice (another tab): the newer screen waits in its place.
    for (std::size_t i = 0; i < waiting_.size(); ++i)
        if (!device.empty() && devices_[i] == device) {
            out.replaced = waiting_[i].screen;
            waiting_.erase(waiting_.begin() + std::ptrdiff_t(i));
            devices_.erase(devices_.begin() + std::ptrdiff_t(i));
            break;
        }
    if (call_open && admit_next_ && !admitted_) {
        admit_next_ = false;
        out.admitted = true;
        admitted_ = Admitted{device, screen, std::nullopt};
        last_exit_.reset();
        return out;
    }
    if (admitted_) out.reason = WaitReason::AnotherDevice;
    else if (call_open && last_exit_) out.reason = *last_exit_;
    else out.reason = WaitReason::FirstVisit;
    waiting_.push_back({screen, now, out.reason});
    devices_.push_back(device);
    return out;
}

std::optional<WaitingRoom::Admission> WaitingRoom::admit(const std::optional<ScreenId>& which) {
    if (waiting_.empty()) return std::nullopt;
    std::size_t i = waiting_.size() - 1;
    if (which) {
        auto it = std::find_if(waiting_.begin(), waiting_.end(), [&](const WaitingScreen& w) { return w.screen == *which; });
        if (it == waiting_.end()) return std::nullopt;
        i = std::size_t(it - waiting_.begin());
    }
    admit_next_ = false;
    Admission out{waiting_[i].screen, std::nullopt};
    if (admitted_ && admitted_->screen) out.replaced = admitted_->screen;
    admitted_ = Admitted{devices_[i], waiting_[i].screen, std::nullopt};
    last_exit_.reset();
    waiting_.erase(waiting_.begin() + std::ptrdiff_t(i));
    devices_.erase(devices_.begin() + std::ptrdiff_t(i));
    return out;
}

WaitingRoom::Departure WaitingRoom::dropped(const ScreenId& screen, Clock::time_point now) {
    Departure out;
    if (admitted_ && admitted_->screen == screen) {
        out.was_admitted = true;
        admitted_->screen.reset();
        if (window_.count() > 0) {
            admitted_->dropped_at = now;
            out.window_opened = true;
        } else {
            admitted_.reset();
            last_exit_ = WaitReason::AfterRejoinWindow;
        }
    } else {
        remove_waiting(screen);
    }
    out.patient_gone = !present();
    return out;
}

WaitingRoom::Departure WaitingRoom::left(const ScreenId& screen) {
    Departure out;
    if (admitted_ && admitted_->screen == screen) {
        out.was_admitted = true;
        admitted_.reset();
        last_exit_ = WaitReason::AfterLeaving;
    } else {
        remove_waiting(screen);
    }
    out.patient_gone = !present();
    return out;
}

bool WaitingRoom::turn_away(const ScreenId& screen) {
    if (!is_waiting(screen)) return false;
    remove_waiting(screen);
    return true;
}

bool WaitingRoom::expire(Clock::time_point now) {
    if (!admitted_ || !admitted_->dropped_at || now - *admitted_->dropped_at < window_) return false;
    admitted_.reset();
    last_exit_ = WaitReason::AfterRejoinWindow;
    return true;
}

void WaitingRoom::clear() {
    admit_next_ = false;
    admitted_.reset();
    waiting_.clear();
    devices_.clear();
    last_exit_.reset();
}

std::optional<Clock::time_point> WaitingRoom::window_ends() const {
    if (!admitted_ || !admitted_->dropped_at) return std::nullopt;
    return *admitted_->dropped_at + window_;
}

std::optional<ScreenId> WaitingRoom::admitted_screen() const {
    if (!admitted_) return std::nullopt;
    return admitted_->screen;
}

}  // namespace consult::room
