// The maintenance window (update/window.hpp): what `[update] window` accepts, and when the
// updater may install, across midnight and at the window's edges.
#include "appliance/update/window.hpp"

#include <gtest/gtest.h>

namespace consult::update {
namespace {

constexpr int at(int hours, int minutes) { return hours * 60 + minutes; }

Window window(std::string_view text) {
    auto w = parse_window(text);
    EXPECT_TRUE(w.has_value()) << text;
    return w.value_or(Window{});
}

TEST(MaintenanceWindow, OnlyHhMmDashHhMmWithRealTimesIsAWindow) {
    for (std::string_view bad : {"", "22:00", "22-05", "25:00-01:00", "22:00-24:00", "22:60-05:00", "2:00-05:00",
                                 "22:00-5:00", "22:00 - 05:00", " 22:00-05:00", "22:00-05:00 ", "22.00-05.00",
                                 "22:00-05:00-06:00", "ab:cd-ef:gh", "-1:00-05:00", "22:00–05:00", "22:00-22:00",
                                 "05:30-05:30"}) {
        const auto w = parse_window(bad);
        EXPECT_FALSE(w.has_value()) << bad;
        if (!w) {
            EXPECT_FALSE(w.error().empty());
        }
    }
    EXPECT_EQ(window(kDefaultWindow), (Window{at(22, 0), at(5, 0)}));
    EXPECT_EQ(window("01:30-04:45"), (Window{at(1, 30), at(4, 45)}));
    EXPECT_EQ(window("23:59-00:00"), (Window{at(23, 59), 0}));
}

// Open from its start to its end, the end itself excluded, across midnight or not.
TEST(MaintenanceWindow, ItIsOpenFromItsStartUpToItsEnd) {
    struct Case {
        std::string_view window;
        int minute;
        bool open;
    };
    for (const Case& c : {Case{"22:00-05:00", at(21, 59), false}, Case{"22:00-05:00", at(22, 0), true},
                          Case{"22:00-05:00", at(23, 59), true}, Case{"22:00-05:00", at(0, 0), true},
                          Case{"22:00-05:00", at(4, 59), true}, Case{"22:00-05:00", at(5, 0), false},
                          Case{"22:00-05:00", at(12, 0), false}, Case{"01:30-04:00", at(1, 29), false},
                          Case{"01:30-04:00", at(1, 30), true}, Case{"01:30-04:00", at(3, 59), true},
                          Case{"01:30-04:00", at(4, 0), false}, Case{"01:30-04:00", at(23, 0), false},
                          Case{"23:59-00:00", at(23, 59), true}, Case{"23:59-00:00", at(0, 0), false}})
        EXPECT_EQ(inside(window(c.window), c.minute), c.open) << c.window << " at minute " << c.minute;
}

TEST(MaintenanceWindow, MidnightToMidnightIsAlwaysOpen) {
    const Window w = window("00:00-00:00");
    EXPECT_TRUE(w.always());
    for (int m : {0, at(12, 0), at(23, 59)}) {
        EXPECT_TRUE(inside(w, m));
        EXPECT_EQ(until_open(w, m), std::chrono::minutes(0));
    }
}

TEST(MaintenanceWindow, ItOpensInTheMinutesLeftUntilItsStart) {
    const Window w = window("22:00-05:00");
    EXPECT_EQ(until_open(w, at(23, 0)), std::chrono::minutes(0));
    EXPECT_EQ(until_open(w, at(4, 59)), std::chrono::minutes(0));
    EXPECT_EQ(until_open(w, at(5, 0)), std::chrono::minutes(17 * 60));
    EXPECT_EQ(until_open(w, at(21, 59)), std::chrono::minutes(1));
    const Window morning = window("01:30-04:00");
    EXPECT_EQ(until_open(morning, at(4, 0)), std::chrono::minutes(21 * 60 + 30));
    EXPECT_EQ(until_open(morning, at(23, 30)), std::chrono::minutes(120));
}

TEST(MaintenanceWindow, MinutesOutsideTheDayAreTakenModuloADay) {
    const Window w = window("22:00-05:00");
    EXPECT_TRUE(inside(w, at(24, 30)));
    EXPECT_TRUE(inside(w, -30));
    EXPECT_EQ(until_open(w, at(24 + 21, 0)), std::chrono::minutes(60));
}

}  // namespace
}  // namespace consult::update
