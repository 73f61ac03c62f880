#include "appliance/room/waiting_room.hpp"

#include <gtest/gtest.h>

namespace consult::room {
namespace {

using namespace std::chrono_literals;

class WaitingRoomTest : public ::testing::Test {
protected:
    WaitingRoom room{120s};
    Clock::time_point t0 = Clock::time_point{} + 1000h;   // a fake clock
};

TEST_F(WaitingRoomTest, APatientWaitsUntilTheDoctorAdmitsThem) {
    auto a = room.arrive("s1", "phone", false, t0);
    EXPECT_FALSE(a.admitted);
    EXPECT_EQ(a.reason, WaitReason::FirstVisit);
    ASSERT_EQ(room.waiting().size(), 1u);
    auto in = room.admit(std::nullopt);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->admitted, "s1");
    EXPECT_FALSE(in->replaced);
    EXPECT_EQ(room.admitted_screen(), "s1");
    EXPECT_TRUE(room.waiting().empty());
    EXPECT_FALSE(room.admit(std::nullopt)) << "nobody else is waiting";
}

TEST_F(WaitingRoomTest, ADroppedPatientComesBackWithoutWaitingFromTheSameDeviceWithinTheWindow) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    auto d = room.dropped("s1", t0 + 1s);
    EXPECT_TRUE(d.was_admitted);
    EXPECT_TRUE(d.window_opened);
    EXPECT_FALSE(d.patient_gone);
    EXPECT_EQ(room.window_ends(), t0 + 121s);
    auto back = room.arrive("s2", "phone", true, t0 + 100s);
    EXPECT_TRUE(back.admitted);
    EXPECT_TRUE(back.rejoin);
    EXPECT_FALSE(back.replaced);
    EXPECT_EQ(room.admitted_screen(), "s2");
    EXPECT_FALSE(room.window_ends());
}

TEST_F(WaitingRoomTest, AfterTheWindowTheSameLinkWaitsAgainWithTheReason) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    room.dropped("s1", t0);
    EXPECT_FALSE(room.expire(t0 + 119s));
    EXPECT_TRUE(room.expire(t0 + 120s)) << "the window passed: the admission ended";
    EXPECT_FALSE(room.present());
    auto late = room.arrive("s2", "phone", true, t0 + 130s);
    EXPECT_FALSE(late.admitted);
    EXPECT_EQ(late.reason, WaitReason::AfterRejoinWindow);
}

TEST_F(WaitingRoomTest, ArrivingLateExpiresTheWindowFirst) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    room.dropped("s1", t0);
    auto late = room.arrive("s2", "phone", true, t0 + 200s);
    EXPECT_FALSE(late.admitted) << "the timer had not fired yet, but the window is over";
    EXPECT_EQ(late.reason, WaitReason::AfterRejoinWindow);
}

TEST_F(WaitingRoomTest, AfterLeaveTheSameLinkWaitsForTheDoctor) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    auto d = room.left("s1");
    EXPECT_TRUE(d.was_admitted);
    EXPECT_TRUE(d.patient_gone);
    auto again = room.arrive("s2", "phone", true, t0 + 5s);
    EXPECT_FALSE(again.admitted);
    EXPECT_EQ(again.reason, WaitReason::AfterLeaving);
    auto in = room.admit(std::nullopt);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->admitted, "s2");
}

TEST_F(WaitingRoomTest, AnotherDeviceWaitsWhileTheFirstIsInTheCallAndAdmittingItMovesTheCall) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    auto other = room.arrive("s2", "laptop", true, t0 + 1s);
    EXPECT_FALSE(other.admitted);
    EXPECT_EQ(other.reason, WaitReason::AnotherDevice);
    EXPECT_EQ(room.admitted_screen(), "s1") << "the first device stays in the call";
    auto moved = room.admit(std::string("s2"));
    ASSERT_TRUE(moved);
    EXPECT_EQ(moved->admitted, "s2");
    EXPECT_EQ(moved->replaced, "s1");
    EXPECT_EQ(room.admitted_screen(), "s2");
}

TEST_F(WaitingRoomTest, AnotherDeviceWaitsEvenWhileTheFirstIsInItsRejoinWindow) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    room.dropped("s1", t0);
    auto other = room.arrive("s2", "laptop", true, t0 + 1s);
    EXPECT_FALSE(other.admitted);
    EXPECT_EQ(other.reason, WaitReason::AnotherDevice);
}

TEST_F(WaitingRoomTest, APageWithoutADeviceIdNeverTakesOver) {
    room.arrive("s1", "", false, t0);
    room.admit(std::nullopt);
    room.dropped("s1", t0);
    auto back = room.arrive("s2", "", true, t0 + 1s);
    EXPECT_FALSE(back.admitted);
    EXPECT_EQ(back.reason, WaitReason::AnotherDevice);
}

TEST_F(WaitingRoomTest, TheSameDeviceOpenedAgainReplacesItsOlderScreen) {
    room.arrive("s1", "phone", false, t0);
    auto tab = room.arrive("s2", "phone", false, t0 + 1s);
    EXPECT_EQ(tab.replaced, "s1");
    ASSERT_EQ(room.waiting().size(), 1u);
    EXPECT_EQ(room.waiting()[0].screen, "s2");
    room.admit(std::nullopt);
    auto third = room.arrive("s3", "phone", true, t0 + 2s);
    EXPECT_TRUE(third.admitted);
    EXPECT_EQ(third.replaced, "s2");
}

TEST_F(WaitingRoomTest, TurningAScreenAwayLeavesTheCallAlone) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    room.arrive("s2", "laptop", true, t0);
    EXPECT_TRUE(room.turn_away("s2"));
    EXPECT_FALSE(room.turn_away("s1")) << "only a waiting screen is turned away";
    EXPECT_EQ(room.admitted_screen(), "s1");
    EXPECT_TRUE(room.waiting().empty());
}

TEST_F(WaitingRoomTest, AWaitingScreenThatDropsIsGoneAndTheRoomEmpties) {
    room.arrive("s1", "phone", false, t0);
    auto d = room.dropped("s1", t0);
    EXPECT_FALSE(d.was_admitted);
    EXPECT_TRUE(d.patient_gone);
    EXPECT_FALSE(room.present());
}

TEST_F(WaitingRoomTest, WithoutARejoinWindowADropEndsTheAdmission) {
    WaitingRoom strict(0s);
    strict.arrive("s1", "phone", false, t0);
    strict.admit(std::nullopt);
    auto d = strict.dropped("s1", t0);
    EXPECT_TRUE(d.patient_gone);
    EXPECT_FALSE(strict.arrive("s2", "phone", true, t0).admitted);
}

TEST_F(WaitingRoomTest, ClearForgetsEveryone) {
    room.arrive("s1", "phone", false, t0);
    room.admit(std::nullopt);
    room.arrive("s2", "laptop", true, t0);
    room.clear();
    EXPECT_FALSE(room.present());
    EXPECT_FALSE(room.admitted_screen());
}

// The doctor admitted while the patient's page was away (reloading, on the phone's
// lock screen): the next screen to open the link goes straight in, once.
TEST_F(WaitingRoomTest, AnAdmissionWhileNobodyWaitsLetsTheNextArrivalIn) {
    EXPECT_FALSE(room.admit(std::nullopt));
    room.admit_next_arrival();
    auto early = room.arrive("s0", "phone", false, t0);
    EXPECT_FALSE(early.admitted) << "not before the call is open";
    room.left("s0");
    auto a = room.arrive("s1", "phone", true, t0 + 1s);
    EXPECT_TRUE(a.admitted);
    EXPECT_FALSE(a.rejoin) << "a first entry, not a rejoin";
    EXPECT_EQ(room.admitted_screen(), "s1");
    auto b = room.arrive("s2", "laptop", true, t0 + 2s);
    EXPECT_FALSE(b.admitted) << "only one screen is let in by one admission";
    EXPECT_EQ(b.reason, WaitReason::AnotherDevice);
}

TEST_F(WaitingRoomTest, AnAdmissionForTheNextArrivalEndsWithTheConsultation) {
    room.admit_next_arrival();
    room.clear();
    EXPECT_FALSE(room.arrive("s1", "phone", true, t0).admitted);
}

}  // namespace
}  // namespace consult::room
