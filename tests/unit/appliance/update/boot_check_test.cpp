// The boot assessment's judgement (update/boot_check.hpp): which answers of a freshly
// booted slot's consultd keep the slot, and which send the box back to the other one.
#include "appliance/update/boot_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace consult::update {
namespace {

const BootExpectation kSlot{"2.1.0", 17};

std::string healthz(const std::string& version, const std::string& db, const std::string& schema,
                    const std::string& encoder, const std::string& status = "ok") {
    return R"({"status":")" + status + R"(","version":")" + version + R"(","db":")" + db +
           R"(","schema_version":)" + schema + R"(,"encoder":)" + encoder + "}";
}

TEST(BootCheck, AHealthyDaemonOfThisSlotPasses) {
    EXPECT_EQ(health_problem(200, healthz("2.1.0", "ok", "17", R"("x264enc")"), kSlot), std::nullopt);
    // A store busy for a moment, or a box without its camera (degraded), still boots its update.
    EXPECT_EQ(health_problem(200, healthz("2.1.0", "busy", "17", R"("x264enc")", "degraded"), kSlot), std::nullopt);
}

TEST(BootCheck, EachWayOfBeingUnhealthyIsNamed) {
    auto problem = [](long status, const std::string& body) { return health_problem(status, body, kSlot).value_or("healthy"); };
    EXPECT_EQ(problem(503, healthz("2.1.0", "error", "null", "null", "unavailable")),
              "/healthz answered 503 (status unavailable, store error)");
    EXPECT_EQ(problem(200, healthz("2.0.0", "ok", "17", R"("x264enc")")), "consultd 2.0.0 answers, this slot is 2.1.0");
    EXPECT_EQ(problem(200, healthz("2.1.0", "full", "17", R"("x264enc")")), "the store is full");
    EXPECT_EQ(problem(200, healthz("2.1.0", "ok", "16", R"("x264enc")")), "the store's schema is 16, this slot needs 17");
    EXPECT_EQ(problem(200, healthz("2.1.0", "ok", "null", R"("x264enc")")), "the store's schema is null, this slot needs 17");
    EXPECT_EQ(problem(200, healthz("2.1.0", "ok", "17", R"("probing")")), "consultd is still probing its media devices");
    EXPECT_EQ(problem(200, healthz("2.1.0", "ok", "17", "null")), "consultd has no video encoder");
}

TEST(BootCheck, HostileAnswersAreUnhealthyNeverAThrow) {
    const std::vector<std::string> bodies{"", "not json", "[]", "null", "42", R"({"version":7})", R"({"version":"2.1.0"})",
                                   R"({"version":"2.1.0","db":"ok","schema_version":"17","encoder":"x"})",
                                   R"({"version":"2.1.0","db":"ok","schema_version":17.5,"encoder":"x"})",
                                   R"({"version":"2.1.0","db":"ok","schema_version":17,"encoder":{}})",
                                   R"({"version":"2.1.0","db":"ok","schema_version":17,"encoder":""})",
                                   std::string(100000, '{')};
    for (const std::string& body : bodies) {
        EXPECT_NE(health_problem(200, body, kSlot), std::nullopt) << body.substr(0, 80);
    }
}

TEST(BootCheck, TheKioskPageMustBeServed) {
    EXPECT_EQ(kiosk_problem(200, "text/html; charset=utf-8", "<!doctype html><html><body>"), std::nullopt);
    EXPECT_EQ(kiosk_problem(404, "text/html", "<html>"), "/kiosk answered 404");
    EXPECT_EQ(kiosk_problem(200, "application/json", "{}"), "/kiosk is not a page (application/json)");
    EXPECT_EQ(kiosk_problem(200, "", ""), "/kiosk is not a page (no type)");
    EXPECT_EQ(kiosk_problem(200, "text/html", "Service Unavailable"), "/kiosk is not the kiosk's page");
}

TEST(BootCheck, NobodyAnsweringIsUnhealthyAfterTheTimeout) {
    // Port 9 on loopback: nothing listens; a zero timeout asks once.
    EXPECT_EQ(run_boot_check("http://127.0.0.1:9", kSlot, std::chrono::seconds(0)), 1);
}

TEST(BootCheck, ADaemonThatNeverAnswersIsGivenUpBeforeTheTimeout) {
    // A crash-looping consultd does not hold a slot's try for the whole timeout (600 s here).
    testing::internal::CaptureStdout();
    EXPECT_EQ(run_boot_check("http://127.0.0.1:9", kSlot, std::chrono::seconds(600), std::chrono::seconds(0)), 1);
    EXPECT_NE(testing::internal::GetCapturedStdout().find("consultd has not answered for 0s"), std::string::npos);
}

}  // namespace
}  // namespace consult::update
