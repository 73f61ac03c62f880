#include "appliance/domain/sweeper.hpp"

#include <gtest/gtest.h>

namespace consult::domain {
namespace {

TEST(Sweeper, EndsCallsPastBookedTimePlusGraceCappedByMaximum) {
    const std::time_t start = 1'800'000'000;
    std::vector<LiveSession> live{{"short", SessionStatus::InProgress, start, 30},
                                  {"long", SessionStatus::InProgress, start, 400},
                                  {"waiting", SessionStatus::Waiting, std::nullopt, 30}};
    SweepLimits l{10, 240};
    EXPECT_TRUE(sessions_to_end(live, start + 39 * 60, l).empty());
    EXPECT_EQ(sessions_to_end(live, start + 40 * 60, l), std::vector<std::string>{"short"});
    EXPECT_EQ(sessions_to_end(live, start + 240 * 60, l), (std::vector<std::string>{"short", "long"}));
}

TEST(Sweeper, NoShowOnlyWhenTheSlotPassedWithoutThePatient) {
    const std::time_t at = 1'800'000'000;
    std::vector<BookedVideoSlot> slots{
        {"never-started", at, 30, false, std::nullopt, std::nullopt},
        {"session-unused", at, 30, false, "s1", SessionStatus::Scheduled},
        {"patient-came", at, 30, true, "s2", SessionStatus::Completed},
        {"patient-waiting", at, 30, false, "s3", SessionStatus::Waiting},
        {"later", at + 3600, 30, false, std::nullopt, std::nullopt}};
    SweepLimits l{10, 240};
    EXPECT_TRUE(no_shows(slots, at + 39 * 60, l).empty());
    EXPECT_EQ(no_shows(slots, at + 40 * 60, l), (std::vector<std::string>{"never-started", "session-unused"}));
}

}  // namespace
}  // namespace consult::domain
