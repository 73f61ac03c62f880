#include "appliance/domain/time.hpp"

#include <chrono>
#include <cstdio>

namespace consult::domain {

namespace {

bool digits(std::string_view s, size_t at, size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

int days_in_month(int y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

}  // namespace

std::string iso_utc(std::time_t t, int millis) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof ms, ".%03dZ", millis % 1000);
    return std::string(date) + ms;
}

std::string iso_in(std::chrono::milliseconds delay) {
    using namespace std::chrono;
    return iso_utc(std::time(nullptr) + std::time_t(duration_cast<seconds>(delay).count()));
}

std::string now_iso() {
    using namespace std::chrono;
    auto now = system_clock::now();
    return iso_utc(system_clock::to_time_t(now), int(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000));
}

std::time_t now_seconds() { return std::time(nullptr); }

std::optional<Date> parse_date(std::string_view s) {
    Date d{};
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    if (!digits(s, 0, 4, d.year) || !digits(s, 5, 2, d.month) || !digits(s, 8, 2, d.day)) return std::nullopt;
    if (d.year < 1970 || d.month < 1 || d.month > 12 || d.day < 1 || d.day > days_in_month(d.year, d.month))
        return std::nullopt;
    return d;
}

std::optional<int> parse_clock(std::string_view s) {
    int h = 0, m = 0;
    if (s.size() != 5 || s[2] != ':' || !digits(s, 0, 2, h) || !digits(s, 3, 2, m) || h > 23 || m > 59)
        return std::nullopt;
    return h * 60 + m;
}

std::optional<std::time_t> parse_iso(std::string_view s) {
    auto date = parse_date(s.substr(0, 10));
    if (!date || s.size() < 16 || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
    auto clock = parse_clock(s.substr(11, 5));
    if (!clock) return std::nullopt;
    size_t i = 16;
    int sec = 0;
    if (i < s.size() && s[i] == ':') {
        if (!digits(s, i + 1, 2, sec) || sec > 60) return std::nullopt;
        i += 3;
        if (i < s.size() && s[i] == '.') {
            ++i;
            size_t start = i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
            if (i == start) return std::nullopt;
        }
    }
    long offset = 0;
    if (i < s.size() && s[i] == 'Z') {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        auto off = parse_clock(s.substr(i + 1, 5));
        if (!off) return std::nullopt;
        offset = (s[i] == '+' ? 1 : -1) * long(*off) * 60;
        i += 6;
    } else {
        return std::nullopt;  // a time without a zone is ambiguous
    }
    if (i != s.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = date->year - 1900;
    tm.tm_mon = date->month - 1;
    tm.tm_mday = date->day;
    tm.tm_hour = *clock / 60;
    tm.tm_min = *clock % 60;
    tm.tm_sec = sec;
    return timegm(&tm) - offset;
}

std::time_t local_instant(const Date& d, int minutes) {
    std::tm tm{};
    tm.tm_year = d.year - 1900;
    tm.tm_mon = d.month - 1;
    tm.tm_mday = d.day;
    tm.tm_hour = minutes / 60;
    tm.tm_min = minutes % 60;
    tm.tm_isdst = -1;
    return std::mktime(&tm);
}

int day_of_week(const Date& d) {
    std::tm tm{};
    tm.tm_year = d.year - 1900;
    tm.tm_mon = d.month - 1;
    tm.tm_mday = d.day;
    tm.tm_hour = 12;
    std::time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    return tm.tm_wday;
}

Date local_date(std::time_t t) {
    std::tm tm{};
    localtime_r(&t, &tm);
    return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

std::string format_date(const Date& d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year % 10000, d.month % 100, d.day % 100);
    return buf;
}

}  // namespace consult::domain
