#include "appliance/fleet/failure_window.hpp"

#include <gtest/gtest.h>

namespace consult::fleet {
namespace {

constexpr std::time_t kStart = 1'800'000'000;   // a whole hour (1800000000 / 3600 = 500000)

TEST(FailureWindow, TheMetricsThatAreFailures) {
    EXPECT_EQ(failure_of("consult_session_create_failures_total", {{"reason", "appointment_not_found"}}),
              Failure::SessionCreate);
    EXPECT_EQ(failure_of("consult_twilio_webhook_refusals_total", {{"reason", "signature"}}), Failure::WebhookRefused);
    EXPECT_EQ(failure_of("consult_media_events_total", {{"event", "peer-failed"}}), Failure::Media);
    EXPECT_EQ(failure_of("consult_media_events_total", {{"event", "camera-lost"}}), Failure::Media);
    EXPECT_EQ(failure_of("consult_media_events_total", {{"event", "audio-only"}}), std::nullopt);
    EXPECT_EQ(failure_of("consult_media_events_total", {{"event", "peer-connected"}}), std::nullopt);
    EXPECT_EQ(failure_of("consult_media_events_total", {}), std::nullopt);
    EXPECT_EQ(failure_of("consult_token_refusals_total", {{"reason", "expired"}}), std::nullopt);
}

TEST(FailureWindow, CountsTheLastDayToTheHourAndForgetsOlderHours) {
    FailureWindow w(kStart);
    w.add(Failure::Media, kStart + 60);
    w.add(Failure::Media, kStart + 3 * 3600, 2);
    w.add(Failure::SessionCreate, kStart + 23 * 3600 + 59);
    auto c = w.last_day(kStart + 23 * 3600 + 100);
    EXPECT_EQ(c.of(Failure::Media), 3);
    EXPECT_EQ(c.of(Failure::SessionCreate), 1);
    EXPECT_EQ(c.since, kStart);
    c = w.last_day(kStart + 24 * 3600);   // the first hour is out of the day now
    EXPECT_EQ(c.of(Failure::Media), 2);
    EXPECT_EQ(c.since, kStart + 3600);
    w.add(Failure::WebhookRefused, kStart + 27 * 3600);   // reuses the bucket of hour 3
    c = w.last_day(kStart + 27 * 3600);
    EXPECT_EQ(c.of(Failure::Media), 0);
    EXPECT_EQ(c.of(Failure::SessionCreate), 1);
    EXPECT_EQ(c.of(Failure::WebhookRefused), 1);
    EXPECT_EQ(w.last_day(kStart + 100 * 3600).of(Failure::WebhookRefused), 0);
}

TEST(FailureWindow, CountsSinceTheProcessStartedWhenThatIsWithinTheDay) {
    FailureWindow w(kStart + 1234);
    EXPECT_EQ(w.last_day(kStart + 3600).since, kStart + 1234);
    w.add(Failure::Media, kStart + 2000, 0);    // nothing
    w.add(Failure::Media, kStart + 2000, -5);   // nothing
    EXPECT_EQ(w.last_day(kStart + 3600).of(Failure::Media), 0);
}

}  // namespace
}  // namespace consult::fleet
