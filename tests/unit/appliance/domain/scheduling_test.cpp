#include "appliance/domain/scheduling.hpp"

#include <gtest/gtest.h>

namespace consult::domain {
namespace {

Timing timing(int day, const char* start, const char* end, int slot = 30, const char* id = "t1", bool active = true) {
    return {id, "doc", day, start, end, slot, active};
}

TEST(Timings, ValidationNamesTheField) {
    EXPECT_FALSE(validate_timing(timing(1, "09:00", "12:00")));
    EXPECT_EQ(validate_timing(timing(7, "09:00", "12:00"))->field, "day_of_week");
    EXPECT_EQ(validate_timing(timing(-1, "09:00", "12:00"))->field, "day_of_week");
    EXPECT_EQ(validate_timing(timing(1, "9:00", "12:00"))->field, "start_time");
    EXPECT_EQ(validate_timing(timing(1, "09:00", "24:00"))->field, "end_time");
    EXPECT_EQ(validate_timing(timing(1, "12:00", "09:00"))->field, "end_time");
    EXPECT_EQ(validate_timing(timing(1, "09:00", "09:00"))->field, "end_time");
    EXPECT_EQ(validate_timing(timing(1, "09:00", "12:00", 4))->field, "slot_duration_minutes");
    EXPECT_EQ(validate_timing(timing(1, "09:00", "12:00", 241))->field, "slot_duration_minutes");
    EXPECT_EQ(validate_timing(timing(1, "09:00", "09:20", 30))->field, "slot_duration_minutes");
    EXPECT_FALSE(validate_timing(timing(0, "00:00", "23:59", 5)));
    EXPECT_FALSE(validate_timing(timing(6, "08:00", "12:00", 240)));
}

TEST(Timings, OverlapOnlyBetweenActiveTimingsOfTheSameDoctorAndDay) {
    std::vector<Timing> existing{timing(1, "09:00", "12:00", 30, "a"), timing(1, "14:00", "17:00", 30, "b"),
                                 timing(2, "09:00", "12:00", 30, "c"), timing(1, "12:00", "14:00", 30, "d", false)};
    EXPECT_EQ(find_overlap(timing(1, "11:00", "13:00", 30, "new"), existing)->id, "a");
    EXPECT_EQ(find_overlap(timing(1, "13:30", "14:30", 30, "new"), existing)->id, "b");
    EXPECT_FALSE(find_overlap(timing(1, "12:00", "14:00", 30, "new"), existing)) << "touching is not overlapping";
    EXPECT_FALSE(find_overlap(timing(3, "09:00", "12:00", 30, "new"), existing));
    EXPECT_FALSE(find_overlap(timing(1, "09:00", "12:00", 30, "a"), existing)) << "a timing does not overlap itself";
    EXPECT_FALSE(find_overlap(timing(1, "10:00", "11:00", 30, "new", false), existing)) << "inactive never overlaps";
    auto other_doctor = timing(1, "10:00", "11:00", 30, "new");
    other_doctor.doctor_id = "doc2";
    EXPECT_FALSE(find_overlap(other_doctor, existing));
}

TEST(Availability, SlotsAreTimingsMinusBookings) {
    const Date d{2026, 11, 24};  // a Tuesday
    ASSERT_EQ(day_of_week(d), 2);
    std::vector<Timing> t{timing(2, "09:00", "11:00", 30), timing(3, "09:00", "11:00", 30)};
    auto all = free_slots(t, d, {});
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[0].start, local_instant(d, 9 * 60));
    EXPECT_EQ(all[3].start, local_instant(d, 10 * 60 + 30));

    const std::time_t nine30 = local_instant(d, 9 * 60 + 30);
    auto left = free_slots(t, d, {{nine30, nine30 + 30 * 60}});
    ASSERT_EQ(left.size(), 3u);
    for (const auto& s : left) EXPECT_NE(s.start, nine30);

    // A booking that straddles two slots takes both.
    const std::time_t nine45 = local_instant(d, 9 * 60 + 45);
    EXPECT_EQ(free_slots(t, d, {{nine45, nine45 + 30 * 60}}).size(), 2u);
}

TEST(Availability, InactiveTimingsAndPartialSlotsGiveNothing) {
    const Date d{2026, 11, 24};
    EXPECT_TRUE(free_slots({timing(2, "09:00", "11:00", 30, "x", false)}, d, {}).empty());
    auto slots = free_slots({timing(2, "09:00", "10:10", 30)}, d, {});
    EXPECT_EQ(slots.size(), 2u) << "the 10:00 slot would run past 10:10";
}

}  // namespace
}  // namespace consult::domain
