// The updater's decision (update/decision.hpp): what it does with the cloud's offer given
// the running version and what the box remembers.
#include "appliance/update/decision.hpp"

#include <gtest/gtest.h>

namespace consult::update {
namespace {

Release offer(const std::string& version) {
    return {version, "https://updates.example.org/" + version + ".raucb", std::string(64, 'a'), 1000, "stable"};
}

TEST(UpdateDecision, NothingOfferedOrTheRunningVersionIsUpToDate) {
    EXPECT_TRUE(std::holds_alternative<UpToDate>(decide("2.0.0", std::nullopt, {})));
    EXPECT_TRUE(std::holds_alternative<UpToDate>(decide("2.0.0", offer("2.0.0"), {})));
    EXPECT_TRUE(std::holds_alternative<UpToDate>(decide("2.0.0", offer("2.0.0"), {{"2.0.0"}, "2.1.0"})));
}

TEST(UpdateDecision, AnotherVersionIsInstalledOlderOnesToo) {
    for (const char* v : {"2.1.0", "1.9.0"}) {
        const auto d = decide("2.0.0", offer(v), {{"3.0.0"}, std::nullopt});
        ASSERT_TRUE(std::holds_alternative<Install>(d)) << v;
        EXPECT_EQ(std::get<Install>(d).release, offer(v));
    }
}

TEST(UpdateDecision, AVersionRolledBackHereIsNeverTriedAgain) {
    const auto d = decide("2.0.0", offer("2.1.0"), {{"2.1.0"}, std::nullopt});
    ASSERT_TRUE(std::holds_alternative<SkipRolledBack>(d));
    EXPECT_EQ(std::get<SkipRolledBack>(d).version, "2.1.0");
    EXPECT_TRUE(std::holds_alternative<SkipRolledBack>(decide("2.0.0", offer("2.1.0"), {{"2.1.0"}, "2.1.0"})))
        << "rolled back wins over pending";
}

TEST(UpdateDecision, TheVersionWaitingForItsRebootIsNotInstalledTwice) {
    const auto d = decide("2.0.0", offer("2.1.0"), {{}, "2.1.0"});
    ASSERT_TRUE(std::holds_alternative<AlreadyPending>(d));
    EXPECT_EQ(std::get<AlreadyPending>(d).version, "2.1.0");
}

TEST(UpdateDecision, ANewerOfferReplacesThePendingOne) {
    EXPECT_TRUE(std::holds_alternative<Install>(decide("2.0.0", offer("2.2.0"), {{}, "2.1.0"})));
}

}  // namespace
}  // namespace consult::update
