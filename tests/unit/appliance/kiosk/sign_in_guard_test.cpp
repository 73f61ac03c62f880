// Lockout after repeated wrong PINs, with a clock the test controls.
#include "appliance/kiosk/sign_in_guard.hpp"

#include <gtest/gtest.h>

namespace consult::kiosk {
namespace {

TEST(SignInGuard, TheFifthWrongPinLocksForFiveMinutes) {
    SignInGuard g;
    for (int i = 0; i < 4; ++i) {
        EXPECT_FALSE(g.failed("doctor", 1000 + i));
        EXPECT_EQ(g.locked_for("doctor", 1000 + i), 0);
    }
    EXPECT_TRUE(g.failed("doctor", 1004));
    EXPECT_EQ(g.locked_for("doctor", 1004), 300);
    EXPECT_EQ(g.locked_for("doctor", 1303), 1);
    EXPECT_EQ(g.locked_for("doctor", 1304), 0);
}

TEST(SignInGuard, AfterTheLockExpiresTheCountStartsAgain) {
    SignInGuard g;
    for (int i = 0; i < 5; ++i) g.failed("d", 0);
    ASSERT_GT(g.locked_for("d", 10), 0);
    EXPECT_FALSE(g.failed("d", 400));
    EXPECT_EQ(g.failures("d"), 1);
    EXPECT_EQ(g.locked_for("d", 400), 0);
}

TEST(SignInGuard, ASuccessClearsTheCount) {
    SignInGuard g;
    for (int i = 0; i < 4; ++i) g.failed("d", 0);
    g.succeeded("d");
    EXPECT_EQ(g.failures("d"), 0);
    EXPECT_FALSE(g.failed("d", 1));
}

TEST(SignInGuard, OldFailuresAreForgotten) {
    SignInGuard g;
    for (int i = 0; i < 4; ++i) g.failed("d", 0);
    EXPECT_FALSE(g.failed("d", 301)) << "four failures five minutes ago do not count towards a lock now";
    EXPECT_EQ(g.failures("d"), 1);
}

TEST(SignInGuard, KeysAreIndependentAndTheLimitIsConfigurable) {
    SignInGuard g(2, 60);
    g.failed("a", 0);
    EXPECT_TRUE(g.failed("a", 1));
    EXPECT_EQ(g.locked_for("a", 1), 60);
    EXPECT_EQ(g.locked_for("b", 1), 0);
    EXPECT_FALSE(g.failed("b", 1));
}

}  // namespace
}  // namespace consult::kiosk
