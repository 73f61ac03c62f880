#include "appliance/room/recording_consent.hpp"

#include <gtest/gtest.h>

namespace consult::room {
namespace {

using namespace std::chrono_literals;
using Ask = RecordingConsent::Ask;
using Answer = RecordingConsent::Answer;

class RecordingConsentTest : public ::testing::Test {
protected:
    RecordingConsent consent{60s};
    RecordingConsent::Clock::time_point t0 = RecordingConsent::Clock::time_point{} + 1000h;   // a fake clock
};

TEST_F(RecordingConsentTest, NothingIsGivenUntilThePatientSaysYesToARequest) {
    EXPECT_FALSE(consent.given());
    EXPECT_EQ(consent.answer(true), Answer::Ignored) << "a yes nobody asked for is not consent";
    EXPECT_FALSE(consent.given());
    EXPECT_EQ(consent.request(t0).outcome, Ask::Sent);
    EXPECT_TRUE(consent.pending());
    EXPECT_FALSE(consent.given());
    EXPECT_EQ(consent.answer(true), Answer::Given);
    EXPECT_TRUE(consent.given());
    EXPECT_EQ(consent.request(t0 + 5s).outcome, Ask::AlreadyGiven) << "record again after a stop: no second question";
}

TEST_F(RecordingConsentTest, NoIsFinalForThatRequestAndTheDoctorMayAskAgainAfterAMinute) {
    consent.request(t0);
    EXPECT_EQ(consent.answer(false), Answer::Declined);
    EXPECT_EQ(consent.state(), RecordingConsent::State::Declined);
    EXPECT_EQ(consent.answer(true), Answer::Ignored) << "a late yes to a declined request is not consent";
    EXPECT_FALSE(consent.given());
    auto soon = consent.request(t0 + 20s);
    EXPECT_EQ(soon.outcome, Ask::TooSoon);
    EXPECT_EQ(soon.retry_after, 40s);
    EXPECT_EQ(consent.request(t0 + 60s).outcome, Ask::Sent);
    EXPECT_EQ(consent.answer(true), Answer::Given);
}

TEST_F(RecordingConsentTest, ARequestStillOnThePatientsScreenIsShownAgainNotRepeated) {
    consent.request(t0);
    EXPECT_EQ(consent.request(t0 + 1s).outcome, Ask::Pending);
    EXPECT_EQ(consent.request(t0 + 90s).outcome, Ask::Pending);
    consent.cancel();
    EXPECT_FALSE(consent.pending());
    EXPECT_EQ(consent.answer(true), Answer::Ignored) << "the doctor stopped waiting: a yes now starts nothing";
    EXPECT_EQ(consent.request(t0 + 91s).outcome, Ask::Sent) << "a minute has passed since the last request";
}

TEST_F(RecordingConsentTest, ThePatientMayWithdrawAtAnyTime) {
    consent.request(t0);
    consent.answer(true);
    EXPECT_EQ(consent.answer(false), Answer::Withdrawn);
    EXPECT_FALSE(consent.given());
    EXPECT_EQ(consent.answer(false), Answer::Ignored) << "withdrawing twice changes nothing";
    EXPECT_EQ(consent.request(t0 + 30s).outcome, Ask::TooSoon);
    EXPECT_EQ(consent.request(t0 + 61s).outcome, Ask::Sent);
}

TEST_F(RecordingConsentTest, TheEndOfTheAdmissionEndsTheConsentButNotTheOnceAMinuteLimit) {
    consent.request(t0);
    consent.answer(true);
    consent.reset();   // left, another device, or the call ended
    EXPECT_FALSE(consent.given());
    EXPECT_EQ(consent.state(), RecordingConsent::State::None);
    EXPECT_EQ(consent.request(t0 + 10s).outcome, Ask::TooSoon) << "leaving and coming back does not skip the limit";
    EXPECT_EQ(consent.request(t0 + 60s).outcome, Ask::Sent);
}

TEST_F(RecordingConsentTest, StatesHaveTheirWireNames) {
    EXPECT_STREQ(state_name(RecordingConsent::State::None), "none");
    EXPECT_STREQ(state_name(RecordingConsent::State::Asked), "asked");
    EXPECT_STREQ(state_name(RecordingConsent::State::Given), "given");
    EXPECT_STREQ(state_name(RecordingConsent::State::Declined), "declined");
    EXPECT_STREQ(state_name(RecordingConsent::State::Withdrawn), "withdrawn");
}

}  // namespace
}  // namespace consult::room
