// The patient's journey for appointments the clinic's cloud brings down: each video
// appointment's patient hears of it once by SMS (through the Twilio stand-in) with the
// short link, once more when the clinic moves it and once when it cancels it; a pulled
// in-person appointment gets nothing.
#include "cloud_fixture.hpp"
#include "python_standin.hpp"

#include <sys/stat.h>

namespace consult::test::cloud {
namespace {

const std::string kTwilioAccount = "AC" + std::string(31, '0') + "9";
const std::string kTwilioToken = "stand-in-auth-token-journey-0001";

class CloudJourney : public CloudFixture {
protected:
    void start_with_twilio() {
        const fs::path token = state_dir() / "credentials" / "twilio-auth-token";
        write_file(token, kTwilioToken);
        ::chmod(token.c_str(), 0600);
        extra_args = {"--set", "notify.prepare_at_booking=true", "--set", "twilio.api_base_url=" + twilio.url(),
                      "--set", "twilio.account_sid=" + kTwilioAccount, "--set", "twilio.from_number=+15550109998",
                      "--set", "notify.clock_seconds=2"};
        start_daemon();
    }
    // The SMS bodies the stand-in received for this phone, in order.
    std::vector<std::string> sms_to(const std::string& phone) const {
        std::vector<std::string> out;
        const json all = twilio.get("/_control/messages");
        for (const auto& m : all["messages"])
            if (m["to"] == phone) out.push_back(m["body"]);
        return out;
    }
    // What the box recorded of its messages, for a failure's message.
    std::string messages_here() const {
        std::string out;
        for (const auto& row : local("SELECT purpose, channel, status, coalesce(error_message, '') FROM outbound_messages"))
            out += row[0] + " " + row[1] + " " + row[2] + " " + row[3] + "\n";
        return out.empty() ? "no messages recorded\n" : out;
    }
    PythonStandin twilio{"twilio_standin.py", {"--account-sid", kTwilioAccount, "--auth-token", kTwilioToken}};
};

TEST_F(CloudJourney, PulledVideoAppointmentsAreConfirmedMovedAndCancelledToThePatientOnce) {
    seed(3);   // patient i has appointment i, video, two days ahead
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(2)}, {"set", {{"consultation_type", "in-person"}}}});
    pair_files(cloud.token(kClinic));
    start_with_twilio();
    const auto phone = [](int i) { return "+1555010000" + std::to_string(i); };
    ASSERT_TRUE(wait_for([&] { return sms_to(phone(0)).size() == 1 && sms_to(phone(1)).size() == 1; }, 60s))
        << messages_here();
    const std::string code = local_value("SELECT l.code FROM short_links l JOIN video_consultation_sessions s "
                                         "ON s.id = l.session_id WHERE s.appointment_id = '" + appointment_id(0) + "'");
    EXPECT_NE(sms_to(phone(0))[0].find("/j/" + code), std::string::npos) << sms_to(phone(0))[0];

    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(0)},
                             {"set", {{"starts_at", "2030-01-07T10:00:00+00:00"}}}});
    cloud.control("update", {{"table", "appointments"}, {"id", appointment_id(1)}, {"set", {{"status", "cancelled"}}}});
    sync_now();
    ASSERT_TRUE(wait_for([&] { return sms_to(phone(0)).size() == 2 && sms_to(phone(1)).size() == 2; }, 60s))
        << status().dump();
    EXPECT_NE(sms_to(phone(0))[1].find("has moved to"), std::string::npos) << sms_to(phone(0))[1];
    EXPECT_NE(sms_to(phone(0))[1].find("/j/" + code), std::string::npos) << "the same link";
    EXPECT_NE(sms_to(phone(1))[1].find("is cancelled"), std::string::npos) << sms_to(phone(1))[1];

    // Later pulls and the daemon's clock send nothing more; the in-person patient never heard.
    sync_now();
    std::this_thread::sleep_for(5s);
    EXPECT_EQ(sms_to(phone(0)).size(), 2u);
    EXPECT_EQ(sms_to(phone(1)).size(), 2u);
    EXPECT_TRUE(sms_to(phone(2)).empty());
}

}  // namespace
}  // namespace consult::test::cloud
