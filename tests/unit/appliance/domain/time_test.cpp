#include "appliance/domain/time.hpp"
#include "appliance/http/rate_limit.hpp"

#include <gtest/gtest.h>

namespace consult::domain {
namespace {

TEST(Time, ParsesIsoWithZoneAndRefusesWithout) {
    EXPECT_EQ(parse_iso("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_iso("1970-01-01T01:00:00.123Z"), 3600);
    EXPECT_EQ(parse_iso("1970-01-01T01:00+01:00"), 0);
    EXPECT_EQ(parse_iso("1970-01-01T00:00:00-00:30"), 1800);
    EXPECT_FALSE(parse_iso("1970-01-01T00:00:00"));
    EXPECT_FALSE(parse_iso("2026-02-30T00:00:00Z"));
    EXPECT_FALSE(parse_iso("2026-11-24T25:00:00Z"));
    EXPECT_FALSE(parse_iso("2026-11-24T10:00:00Zjunk"));
    EXPECT_FALSE(parse_iso(""));
    EXPECT_EQ(iso_utc(*parse_iso("2026-11-24T09:30:00Z")), "2026-11-24T09:30:00.000Z");
}

TEST(Time, DatesAndClocks) {
    EXPECT_TRUE(parse_date("2024-02-29"));
    EXPECT_FALSE(parse_date("2025-02-29"));
    EXPECT_FALSE(parse_date("2025-13-01"));
    EXPECT_FALSE(parse_date("25-01-01"));
    EXPECT_EQ(parse_clock("09:30"), 570);
    EXPECT_FALSE(parse_clock("9:30"));
    EXPECT_FALSE(parse_clock("23:60"));
    EXPECT_EQ(day_of_week({2026, 11, 22}), 0);
    EXPECT_EQ(format_date({2026, 1, 5}), "2026-01-05");
    const Date d{2026, 11, 24};
    EXPECT_EQ(format_date(local_date(local_instant(d, 12 * 60))), "2026-11-24");
}

TEST(RateLimiter, AllowsABurstThenAsksToWaitAndRefills) {
    http::RateLimiter limiter(60, 3);  // one a second, three at once
    auto t0 = http::RateLimiter::Clock::now();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.retry_after("10.0.0.1", t0), 0);
    EXPECT_GE(limiter.retry_after("10.0.0.1", t0), 1);
    EXPECT_EQ(limiter.retry_after("10.0.0.2", t0), 0) << "per address";
    EXPECT_EQ(limiter.retry_after("10.0.0.1", t0 + std::chrono::seconds(2)), 0);
}

}  // namespace
}  // namespace consult::domain
