#include "appliance/fleet/status_report.hpp"

#include "appliance/tokens/jwt.hpp"

#include <gtest/gtest.h>

namespace consult::fleet {
namespace {

using nlohmann::json;

constexpr const char* kBoot = "0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3c";
constexpr const char* kClinic = "c1a1c000-0000-4000-8000-000000000001";
constexpr std::time_t kNow = 1'800'000'000;   // 2027-01-15T08:00:00Z

ReportInputs paired_ab_box() {
    ReportInputs in;
    in.device_id = "room-3";
    in.clinic_id = kClinic;
    in.version = "0.2.0";
    in.cmdline = "BOOT_IMAGE=x ro rauc.slot=b quiet";
    in.boot_id = kBoot;
    update::UpdateState s;
    s.good_boot_id = kBoot;
    s.last = update::Attempt{"2027-01-15T03:00:00.000Z", "0.2.0", update::Result::Installed, "running since the restart"};
    in.update_state = s;
    in.encoder = "vah264enc";
    in.camera = "HD Pro Webcam C920";
    in.cloud_sync_state = "idle, 0 waiting";
    in.uptime_seconds = 3600;
    in.box_uptime_seconds = 7200;
    in.failures.in_memory.counts = {1, 2, 3};
    in.failures.in_memory.since = kNow - 3600;
    in.failures.sms = 4;
    in.failures.status_callbacks_refused = 5;
    in.now = kNow;
    return in;
}

// The row's value of a state file's JSON text, read as load_state reads it.
ReportInputs with_state_json(const std::string& text) {
    ReportInputs in = paired_ab_box();
    auto j = json::parse(text, nullptr, false);
    auto s = j.is_discarded() ? expected<update::UpdateState, std::string>(unexpected(std::string("is not JSON")))
                              : update::state_from_json(j);
    in.update_state = s;
    return in;
}

TEST(FleetReport, AnABoxMarkedGoodAfterAnInstallReportsEveryColumn) {
    const json row = status_row(paired_ab_box());
    EXPECT_EQ(row, json::parse(R"({
      "device_id": "room-3", "clinic_id": "c1a1c000-0000-4000-8000-000000000001", "version": "0.2.0",
      "booted_slot": "b", "slot_marked_good": true,
      "last_update_version": "0.2.0", "last_update_result": "installed",
      "last_update_reason": "running since the restart", "last_update_at": "2027-01-15T03:00:00.000Z",
      "uptime_seconds": 3600, "box_uptime_seconds": 7200,
      "encoder": "vah264enc", "camera": "HD Pro Webcam C920", "cloud_sync_state": "idle, 0 waiting",
      "failures_last_day": {"session_create": 1, "media": 2, "webhook_refused": 3, "sms": 4,
                            "status_callbacks_refused": 5, "memory_counts_since": "2027-01-15T07:00:00.000Z"},
      "reported_at": "2027-01-15T08:00:00.000Z"})"));
}

TEST(FleetReport, MarkedGoodInAnotherBootIsNotMarkedGoodNow) {
    auto in = paired_ab_box();
    in.boot_id = "11111111-2222-3333-4444-555555555555";
    EXPECT_EQ(status_row(in)["slot_marked_good"], false);
    in.update_state->good_boot_id.clear();
    EXPECT_EQ(status_row(in)["slot_marked_good"], false);
    in.boot_id.reset();   // unreadable boot id: unknown, not false
    EXPECT_TRUE(status_row(in)["slot_marked_good"].is_null());
}

TEST(FleetReport, ABoxThatIsNotABReportsNoSlotAndNoMarkedGood) {
    auto in = paired_ab_box();
    in.cmdline = "root=/dev/sda2 ro quiet";
    auto row = status_row(in);
    EXPECT_TRUE(row["booted_slot"].is_null());
    EXPECT_TRUE(row["slot_marked_good"].is_null());
    in.cmdline.reset();   // /proc/cmdline unreadable
    row = status_row(in);
    EXPECT_TRUE(row["booted_slot"].is_null());
    in.cmdline = "rauc.slot=a rauc.slot=b";
    EXPECT_TRUE(status_row(in)["booted_slot"].is_null());
}

TEST(FleetReport, NoStateFileIsABoxThatNeverUpdated) {
    auto in = paired_ab_box();
    in.update_state = update::UpdateState{};
    auto row = status_row(in);
    EXPECT_EQ(row["last_update_result"], "none");
    EXPECT_TRUE(row["last_update_version"].is_null());
    EXPECT_TRUE(row["last_update_at"].is_null());
    EXPECT_TRUE(row["last_update_reason"].is_null());
    EXPECT_EQ(row["slot_marked_good"], false);   // never marked good by the updater in this boot
}

TEST(FleetReport, EachResultOfTheUpdaterHasItsColumnName) {
    const std::pair<update::Result, const char*> names[] = {
        {update::Result::Installed, "installed"}, {update::Result::RolledBack, "rolled_back"},
        {update::Result::Refused, "refused"},     {update::Result::Failed, "failed"},
        {update::Result::Postponed, "postponed"}};
    for (auto [result, name] : names) {
        auto in = paired_ab_box();
        in.update_state->last->result = result;
        EXPECT_EQ(status_row(in)["last_update_result"], name);
    }
    auto in = with_state_json(R"({"last": {"at": "2027-01-14T22:10:00.000Z", "version": "0.3.0",
                                  "result": "refused", "reason": "bundle signed by another key"}})");
    auto row = status_row(in);
    EXPECT_EQ(row["last_update_result"], "refused");
    EXPECT_EQ(row["last_update_version"], "0.3.0");
    EXPECT_EQ(row["last_update_reason"], "bundle signed by another key");
}

TEST(FleetReport, AStateFileThatCannotBeReadIsUnknownWithTheReason) {
    for (const char* text : {"not json", "[]", R"({"last": {"result": "exploded"}})", R"({"last": 7})",
                             R"({"good_boot_id": 5})", R"({"last": {"version": "1.0;reboot", "result": "installed"}})"}) {
        auto row = status_row(with_state_json(text));
        EXPECT_EQ(row["last_update_result"], "unknown") << text;
        ASSERT_TRUE(row["last_update_reason"].is_string()) << text;
        EXPECT_EQ(row["last_update_reason"].get<std::string>().rfind("the updater's state cannot be read: ", 0), 0u);
        EXPECT_TRUE(row["slot_marked_good"].is_null()) << text;
        EXPECT_TRUE(row["last_update_version"].is_null()) << text;
    }
    ReportInputs in = paired_ab_box();
    in.update_state = unexpected(std::string(2000, 'x') + "\x01\xff");
    auto reason = status_row(in)["last_update_reason"].get<std::string>();
    EXPECT_LE(reason.size(), 500u);
    EXPECT_NO_THROW(status_row(in).dump());
}

TEST(FleetReport, ATimeTheCloudCouldNotReadIsLeftOut) {
    for (const char* at : {"", "yesterday", "2027-13-01T00:00:00Z", "2027-02-30T00:00:00Z", "2027-01-15 03:00:00Z",
                           "2027-01-15T03:00:00", "2027-01-15T03:00:00.1234567Z", "2027-01-15T25:00:00Z",
                           "2027-01-15T03:00:00Z; DROP TABLE", "２０２７-01-15T03:00:00Z"}) {
        auto in = paired_ab_box();
        in.update_state->last->at = at;
        EXPECT_TRUE(status_row(in)["last_update_at"].is_null()) << at;
    }
    for (const char* at : {"2027-01-15T03:00:00Z", "2027-01-15T03:00:00.5+01:00", "2024-02-29T23:59:59.999Z"})
        EXPECT_EQ(checked_timestamp(at), at);
}

TEST(FleetReport, HostileDeviceTextIsMadeToFitTheColumns) {
    auto in = paired_ab_box();
    in.camera = std::string("Cam\n\x1b[31mred\xff\xfe") + std::string(400, 'y');
    in.encoder = std::string(300, '\x80');
    in.cloud_sync_state = std::string(250, 'e') + "é";
    auto row = status_row(in);
    const std::string camera = row["camera"];
    EXPECT_LE(camera.size(), 200u);
    EXPECT_EQ(camera.find('\n'), std::string::npos);
    EXPECT_EQ(camera.find('\x1b'), std::string::npos);
    EXPECT_LE(row["encoder"].get<std::string>().size(), 200u);
    EXPECT_LE(row["cloud_sync_state"].get<std::string>().size(), 200u);
    EXPECT_NO_THROW(row.dump());   // valid UTF-8 throughout
    in.camera = "";
    EXPECT_TRUE(status_row(in)["camera"].is_null());
}

TEST(FleetReport, AVersionOutsideTheTablesPatternIsMadeToFit) {
    auto in = paired_ab_box();
    in.version = "1.0 (dev; build 7)";
    EXPECT_EQ(status_row(in)["version"], "1.0--dev--build-7-");
    in.version = "";
    EXPECT_EQ(status_row(in)["version"], "unknown");
    in.version = std::string(100, '9');
    EXPECT_EQ(status_row(in)["version"].get<std::string>().size(), 64u);
}

TEST(FleetReport, NegativeOrUnknownUptimesAreNotSent) {
    auto in = paired_ab_box();
    in.uptime_seconds = -5;
    in.box_uptime_seconds = -1;
    auto row = status_row(in);
    EXPECT_EQ(row["uptime_seconds"], 0);
    EXPECT_TRUE(row["box_uptime_seconds"].is_null());
    in.box_uptime_seconds.reset();
    EXPECT_TRUE(status_row(in)["box_uptime_seconds"].is_null());
}

TEST(FleetReport, AnUnpairedBoxOrABadIdHasNoDeviceOrClinic) {
    auto in = paired_ab_box();
    in.device_id.reset();
    in.clinic_id = "not-a-uuid";
    auto row = status_row(in);
    EXPECT_TRUE(row["device_id"].is_null());
    EXPECT_TRUE(row["clinic_id"].is_null());
    in.device_id = "room 3; --";
    EXPECT_TRUE(status_row(in)["device_id"].is_null());
}

TEST(FleetReport, TheDeviceIdComesFromTheTokensClaimChecked) {
    auto token = [](const std::string& payload) {
        return tokens::base64url_encode(R"({"alg":"HS256"})") + "." + tokens::base64url_encode(payload) + ".sig";
    };
    EXPECT_EQ(token_device_id(token(R"({"role":"consult_device","device_id":"room-3"})")), "room-3");
    EXPECT_EQ(token_device_id(token(R"({"device_id":"room 3"})")), std::nullopt);
    EXPECT_EQ(token_device_id(token(R"({"device_id":7})")), std::nullopt);
    EXPECT_EQ(token_device_id(token(R"({"role":"consult_device"})")), std::nullopt);
    EXPECT_EQ(token_device_id(token("not json")), std::nullopt);
    EXPECT_EQ(token_device_id(token(R"({"device_id":")" + std::string(65, 'a') + "\"}")), std::nullopt);
    EXPECT_EQ(token_device_id("no-dots"), std::nullopt);
    EXPECT_EQ(token_device_id("a.!!!.c"), std::nullopt);
    EXPECT_EQ(token_device_id(""), std::nullopt);
}

TEST(FleetReport, TheSyncStateLineSaysStateQueueAndTheErrorWhenItMatters) {
    EXPECT_EQ(sync_state_line({{"state", "idle"}, {"outbox_depth", 0}, {"parked_rows", 0}}), "idle, 0 waiting");
    EXPECT_EQ(sync_state_line({{"state", "retrying"}, {"outbox_depth", 3}, {"parked_rows", 1}, {"last_error", "HTTP 503"}}),
              "retrying, 3 waiting, 1 parked: HTTP 503");
    EXPECT_EQ(sync_state_line({{"state", "off"}, {"off_reason", "no [cloud] url configured"}}),
              "off: no [cloud] url configured");
    EXPECT_EQ(sync_state_line(json::array()), "unknown");
    EXPECT_EQ(sync_state_line({{"state", 5}, {"outbox_depth", "x"}}), "unknown");
}

}  // namespace
}  // namespace consult::fleet
