// The first-start screen's API over real HTTP (consultd --demo with its admin PIN taken
// away, as on a box clinic IT gave no provisioning file): what the screen shows, the
// admin PIN and time zone it sets, once, with hostile bodies refused and nothing half set.
#include "api_fixture.hpp"
#include "twilio_fixture.hpp"


namespace consult::test::api {
namespace {

const std::string kKiosk = "/api/kiosk";
const std::string kSetup = kKiosk + "/setup";

class KioskSetup : public ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        twilio::exec_sql(api.db_path(), "DELETE FROM kiosk_pins WHERE subject = 'admin'");
    }
    std::string system_conf() { return read_file(api.proc().state_dir() / "system.conf"); }
    bool has_system_conf() { return fs::exists(api.proc().state_dir() / "system.conf"); }
};

TEST_F(KioskSetup, WithNoAdminPinTheScreenIsNeededAndShowsZonesAndTheNetwork) {
    auto r = api.call("GET", kSetup, "");
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_TRUE(r.body["needed"].get<bool>());
    EXPECT_EQ(r.body["time_zone"], "UTC");
    const auto& zones = r.body["time_zones"];
    ASSERT_TRUE(zones.is_array());
    EXPECT_GT(zones.size(), 100u);
    EXPECT_NE(std::find(zones.begin(), zones.end(), "America/Chicago"), zones.end());
    EXPECT_NE(std::find(zones.begin(), zones.end(), "UTC"), zones.end());
    EXPECT_TRUE(r.body["network"]["online"].is_boolean());
    for (const auto& a : r.body["network"]["addresses"]) EXPECT_NE(a["address"], "127.0.0.1");
    EXPECT_FALSE(api.call("GET", kKiosk + "/doctors", "").body["admin_pin_set"].get<bool>());
}

TEST_F(KioskSetup, HostileBodiesAreRefusedAndSetNothing) {
    const std::vector<std::pair<json, std::string>> bad = {
        {{{"admin_pin", "12"}, {"time_zone", "UTC"}}, "invalid_pin"},
        {{{"admin_pin", "12345678901"}, {"time_zone", "UTC"}}, "invalid_pin"},
        {{{"admin_pin", "12ab"}, {"time_zone", "UTC"}}, "invalid_pin"},
        {{{"admin_pin", 1234}, {"time_zone", "UTC"}}, "invalid_type"},
        {{{"admin_pin", "1234"}, {"time_zone", "../../etc/passwd"}}, "invalid_time_zone"},
        {{{"admin_pin", "1234"}, {"time_zone", "Mars/Olympus"}}, "invalid_time_zone"},
        {{{"admin_pin", "1234"}, {"time_zone", "Europe/London\nhostname=evil"}}, "invalid_time_zone"},
        {{{"admin_pin", "1234"}, {"time_zone", std::string(5000, 'A')}}, "invalid_value"},
        {{{"admin_pin", "1234"}}, "missing_field"},
    };
    for (const auto& [body, code] : bad) {
        auto r = api.call("POST", kSetup, "", body);
        EXPECT_GE(r.status, 400) << body.dump();
        EXPECT_LT(r.status, 500) << body.dump();
        EXPECT_EQ(r.body["error"]["code"], code) << body.dump() << " " << r.text();
    }
    EXPECT_EQ(api.send("POST", kSetup, {kJsonType}, "{\"admin_pin\": \"1234\", ").status, 400);
    EXPECT_TRUE(api.call("GET", kSetup, "").body["needed"].get<bool>());
    EXPECT_FALSE(has_system_conf());
    EXPECT_TRUE(api.query_column("SELECT subject FROM kiosk_pins WHERE subject = 'admin'").empty());
}

TEST_F(KioskSetup, SettingUpOnceGivesTheAdminPinAndTheZoneAndNeverAgain) {
    auto r = api.call("POST", kSetup, "", {{"admin_pin", "482915"}, {"time_zone", "America/Chicago"}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_FALSE(r.body["needed"].get<bool>());
    EXPECT_NE(system_conf().find("time_zone=America/Chicago"), std::string::npos) << system_conf();
    EXPECT_EQ(api.call("GET", kSetup, "").body["time_zone"], "America/Chicago");
    // The PIN works for the admin sign-in, and a wrong one does not.
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "482915"}}).status, 200);
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "0000"}}).status, 401);
    // Nobody sets the box up a second time, whatever they send.
    auto again = api.call("POST", kSetup, "", {{"admin_pin", "1111"}, {"time_zone", "UTC"}});
    EXPECT_TRUE(is_error(again, 409, "setup_done")) << again.text();
    EXPECT_FALSE(api.call("GET", kSetup, "").body["needed"].get<bool>());
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", "1111"}}).status, 401);
    EXPECT_NE(system_conf().find("America/Chicago"), std::string::npos);
    // Audited, without the PIN.
    auto rows = api.query_rows("SELECT actor, action, detail FROM audit_log WHERE action = 'kiosk.setup'");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][2].find("482915"), std::string::npos);
    EXPECT_EQ(api.proc().stderr_text().find("482915"), std::string::npos);
    // And it holds across a restart.
    api.restart();
    EXPECT_FALSE(api.call("GET", kSetup, "").body["needed"].get<bool>());
}

// The PIN's KDF runs off the main loop, so two screens' taps can be in flight at once:
// exactly one sets the box up, the other is told it is done, and only the winner's PIN
// and zone hold.
TEST_F(KioskSetup, TwoSetupsAtOnceGiveExactlyOneBox) {
    const json bodies[2] = {{{"admin_pin", "482915"}, {"time_zone", "America/Chicago"}},
                            {{"admin_pin", "739104"}, {"time_zone", "Europe/Berlin"}}};
    // The loop answers while the KDF runs.
    auto replies = both_at_once([&](int i) { return api.call("POST", kSetup, "", bodies[i]); },
                                [&] { EXPECT_TRUE(api.healthy()); });
    const int winner = replies[0].status == 200 ? 0 : 1;
    ASSERT_EQ(replies[winner].status, 200) << replies[0].text() << " | " << replies[1].text();
    EXPECT_TRUE(is_error(replies[1 - winner], 409, "setup_done")) << replies[1 - winner].text();
    const std::string zone = bodies[winner]["time_zone"], other = bodies[1 - winner]["time_zone"];
    EXPECT_NE(system_conf().find("time_zone=" + zone), std::string::npos) << system_conf();
    EXPECT_EQ(system_conf().find(other), std::string::npos) << system_conf();
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", bodies[winner]["admin_pin"]}}).status, 200);
    EXPECT_EQ(api.call("POST", kKiosk + "/admin-sign-in", "", {{"pin", bodies[1 - winner]["admin_pin"]}}).status, 401);
    EXPECT_EQ(api.query_column("SELECT action FROM audit_log WHERE action = 'kiosk.setup'").size(), 1u);
}

}  // namespace
}  // namespace consult::test::api
