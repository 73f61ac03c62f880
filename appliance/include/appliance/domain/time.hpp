// Time as the appliance stores and exchanges it: ISO 8601 UTC with milliseconds
// ("2026-11-24T09:30:00.000Z"); clinic-local dates and clock times for schedules.
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace consult::domain {

std::string iso_utc(std::time_t t, int millis = 0);
std::string now_iso();
// The time `delay` from now, to the second (when to try again).
std::string iso_in(std::chrono::milliseconds delay);
std::time_t now_seconds();

// Accepts "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z" or "+HH:MM"/"-HH:MM".
std::optional<std::time_t> parse_iso(std::string_view text);

// "YYYY-MM-DD" → the date's parts, validated (month lengths, leap years).
struct Date { int year, month, day; };
std::optional<Date> parse_date(std::string_view text);
// "HH:MM" (00:00-23:59) → minutes after midnight.
std::optional<int> parse_clock(std::string_view text);

// Local wall-clock time on a date, in the box's time zone, as an instant.
std::time_t local_instant(const Date& d, int minutes_after_midnight);
// Day of week (0 = Sunday) of a date.
int day_of_week(const Date& d);
// The local calendar date of an instant.
Date local_date(std::time_t t);
std::string format_date(const Date& d);

}  // namespace consult::domain
