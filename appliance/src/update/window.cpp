#include "appliance/update/window.hpp"

#include <optional>

namespace consult::update {

namespace {

constexpr int kMinutesPerDay = 24 * 60;

int day_minute(int minute) { return ((minute % kMinutesPerDay) + kMinutesPerDay) % kMinutesPerDay; }

std::optional<int> two_digits(std::string_view s) {
    if (s.size() != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9') return std::nullopt;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

// "HH:MM" → minute of the day.
std::optional<int> clock_minute(std::string_view s) {
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    const auto hours = two_digits(s.substr(0, 2)), minutes = two_digits(s.substr(3, 2));
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    return *hours * 60 + *minutes;
}

}  // namespace

expected<Window, std::string> parse_window(std::string_view text) {
    const std::string shown = "'" + std::string(text.substr(0, 40)) + "'";
    if (text.size() != 11 || text[5] != '-')
        return unexpected(shown + " is not a window in the form HH:MM-HH:MM (e.g. 22:00-05:00)");
    const auto start = clock_minute(text.substr(0, 5)), end = clock_minute(text.substr(6, 5));
    if (!start || !end) return unexpected(shown + " has a time that is not HH:MM from 00:00 to 23:59");
    if (*start == *end && *start != 0)
        return unexpected(shown + " starts where it ends (00:00-00:00 is the only way to say always)");
    return Window{*start, *end};
}

bool inside(const Window& w, int minute_of_day) {
    const int m = day_minute(minute_of_day);
    if (w.always()) return true;
    if (w.start_minute < w.end_minute) return m >= w.start_minute && m < w.end_minute;
    return m >= w.start_minute || m < w.end_minute;   // across midnight
}

std::chrono::minutes until_open(const Window& w, int minute_of_day) {
    if (inside(w, minute_of_day)) return std::chrono::minutes(0);
    return std::chrono::minutes(day_minute(w.start_minute - day_minute(minute_of_day)));
}

}  // namespace consult::update
