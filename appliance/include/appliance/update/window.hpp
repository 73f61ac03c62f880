// The box's maintenance window, config `[update] window` (default 22:00-05:00): the updater
// installs and reboots only inside it, so a clinic's day is never interrupted. Local time,
// minutes of the day; a window may run across midnight.
#pragma once

#include "hwconfig/expected.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace consult::update {

inline constexpr std::string_view kDefaultWindow = "22:00-05:00";

struct Window {
    int start_minute = 0;   // 0..1439, inside the window
    int end_minute = 0;     // 0..1439, the first minute after it; equal to start only for `always`
    bool operator==(const Window&) const = default;
    bool always() const { return start_minute == end_minute; }
};

// "HH:MM-HH:MM", 24-hour, two digits each. "00:00-00:00" means always (for lab and test
// boxes); any other equal start and end is refused, since it could mean all day or never.
expected<Window, std::string> parse_window(std::string_view text);

// Whether the minute of the day (0..1439; others are taken modulo a day) is inside.
bool inside(const Window& w, int minute_of_day);

// How long until the window opens: zero when it is open now.
std::chrono::minutes until_open(const Window& w, int minute_of_day);

}  // namespace consult::update
