// The fleet report (#14): consultd upserts its consult_device_status row into the PostgREST
// stand-in through the outbox; an offline box reports when the cloud is back, only its
// newest report; consultctl status and GET /api/system/fleet-status (admin only) show it.
// /proc's files, os-release and the updater's state are the test's, hostile ones included.
#include "cloud_fixture.hpp"

namespace consult::test::cloud {
namespace {

constexpr const char* kBoot = "0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3c";

std::string installed_state(const std::string& good_boot) {
    return json{{"pending", nullptr}, {"rolled_back", json::array()}, {"good_boot_id", good_boot},
                {"last", {{"at", "2027-01-15T03:00:00.000Z"}, {"version", "0.2.0"}, {"result", "installed"},
                          {"reason", "running since the restart (was 0.1.0)"}}}}.dump();
}

class FleetStatus : public CloudFixture {
protected:
    void SetUp() override { box("BOOT_IMAGE=/vmlinuz ro rauc.slot=b quiet\n", std::string(kBoot) + "\n", "5000.25 100.00\n",
                                "ID=debian\nIMAGE_VERSION=0.2.0\n", installed_state(kBoot)); }

    // The box's files as consultd finds them.
    void box(const std::string& cmdline, const std::string& boot_id, const std::string& uptime,
             const std::string& os_release, const std::string& update_state) {
        write_file(dir / "cmdline", cmdline);
        write_file(dir / "boot_id", boot_id);
        write_file(dir / "uptime", uptime);
        write_file(dir / "os-release", os_release);
        fs::create_directories(state_dir() / "update");
        write_file(state_dir() / "update" / "state.json", update_state);
        extra_env = {{"CONSULT_PROC_CMDLINE", (dir / "cmdline").string()},
                     {"CONSULT_BOOT_ID_FILE", (dir / "boot_id").string()},
                     {"CONSULT_PROC_UPTIME", (dir / "uptime").string()},
                     {"CONSULT_OS_RELEASE", (dir / "os-release").string()}};
    }

    json cloud_row() const {
        auto rows = cloud.device_status();
        return rows.is_array() && rows.size() == 1 ? rows[0] : json();
    }

    long waiting_reports() const {
        return std::stol(local_value("SELECT count(*) FROM outbox WHERE table_name = 'consult_device_status'"));
    }

    json healthz() const { return json::parse(daemon->http("GET", "/healthz", "", {}, 5000).body, nullptr, false); }
};

TEST_F(FleetStatus, TheBoxUpsertsItsRowWithVersionSlotUpdateUptimeDevicesSyncAndFailures) {
    start_paired(0);
    ASSERT_TRUE(wait_for([&] { return cloud_row().is_object(); }, 60s)) << cloud.stats().dump();
    const json r = cloud_row();
    EXPECT_EQ(r["device_id"], "dev");
    EXPECT_EQ(r["clinic_id"], kClinic);
    EXPECT_EQ(r["version"], "0.2.0");   // the image's (os-release), as bundles name it
    EXPECT_EQ(r["booted_slot"], "b");
    EXPECT_EQ(r["slot_marked_good"], true);
    EXPECT_EQ(r["last_update_result"], "installed");
    EXPECT_EQ(r["last_update_version"], "0.2.0");
    EXPECT_EQ(r["last_update_at"], "2027-01-15T03:00:00.000Z");
    EXPECT_EQ(r["last_update_reason"], "running since the restart (was 0.1.0)");
    EXPECT_EQ(r["box_uptime_seconds"], 5000);
    EXPECT_GE(r["uptime_seconds"].get<long>(), 0);
    const json h = healthz();
    EXPECT_EQ(r["encoder"], h["encoder"]);
    ASSERT_TRUE(r["camera"].is_string());
    EXPECT_EQ(r["camera"].get<std::string>().rfind(h["camera"].value("name", "?"), 0), 0u) << r["camera"];
    EXPECT_TRUE(r["cloud_sync_state"].is_string());
    for (const char* k : {"session_create", "media", "webhook_refused", "sms", "status_callbacks_refused"})
        EXPECT_EQ(r["failures_last_day"][k], 0) << k;
    EXPECT_TRUE(r["reported_at"].is_string());
}

TEST_F(FleetStatus, SessionCreateFailuresOfTheDayAreCounted) {
    start_paired(0);
    const std::string doctor = token("doctor", kDoctor);
    for (int i = 0; i < 2; ++i) {   // no such appointment: refused
        const long status = daemon->http("POST", kSessions, json{{"appointment_id", appointment_id(99)}, {"duration_minutes", 30}}.dump(),
                                         {"Authorization: Bearer " + doctor, "Content-Type: application/json"}, 10000).status;
        EXPECT_TRUE(status >= 400 && status < 500) << status;
    }
    const std::string admin = token("admin", "it");
    auto r = daemon->http("GET", "/api/system/fleet-status", "", {"Authorization: Bearer " + admin}, 5000);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["report"]["failures_last_day"]["session_create"], 2) << r.body;
}

TEST_F(FleetStatus, WithTheCloudDownTheNewestReportWaitsInTheOutboxAndArrivesWhenItIsBack) {
    seed(0);
    pair_files(cloud.token(kClinic));
    cloud.fault("500");   // every request, until lifted
    start_daemon();
    ASSERT_TRUE(wait_for([&] { return waiting_reports() == 1; }, 60s));
    // The updater settles a rollback meanwhile: the next report takes the waiting one's place.
    write_file(state_dir() / "update" / "state.json.new",
               json{{"pending", nullptr}, {"rolled_back", {"0.3.0"}}, {"good_boot_id", kBoot},
                    {"last", {{"at", "2027-01-15T04:00:00.000Z"}, {"version", "0.3.0"}, {"result", "rolled-back"},
                              {"reason", "it did not pass its boot check"}}}}.dump());
    fs::rename(state_dir() / "update" / "state.json.new", state_dir() / "update" / "state.json");
    ASSERT_TRUE(wait_for([&] {
        return local_value("SELECT payload FROM outbox WHERE table_name = 'consult_device_status'").find("rolled_back") !=
               std::string::npos;
    }, 90s));
    EXPECT_EQ(waiting_reports(), 1);   // the older report gave way
    EXPECT_TRUE(cloud.device_status().empty());
    cloud.fault("none");
    ASSERT_TRUE(wait_for([&] { return cloud_row().is_object(); }, 90s)) << status().dump();
    const json r = cloud_row();
    EXPECT_EQ(r["last_update_result"], "rolled_back");
    EXPECT_EQ(r["last_update_version"], "0.3.0");
    ASSERT_TRUE(wait_for([&] { return waiting_reports() == 0; }, 30s));
}

TEST_F(FleetStatus, HostileBoxFilesStillGiveARowThatSaysWhatIsUnknown) {
    box("rauc.slot=z rauc.slot=a", "not a boot id", "garbage", "IMAGE_VERSION='1.0;reboot'\n", "{\"last\": [");
    start_paired(0);
    ASSERT_TRUE(wait_for([&] { return cloud_row().is_object(); }, 60s)) << cloud.stats().dump();
    const json r = cloud_row();
    EXPECT_TRUE(r["booted_slot"].is_null());
    EXPECT_TRUE(r["slot_marked_good"].is_null());
    EXPECT_EQ(r["last_update_result"], "unknown");
    EXPECT_NE(r["last_update_reason"].get<std::string>().find("not JSON"), std::string::npos) << r;
    EXPECT_TRUE(r["box_uptime_seconds"].is_null());
    EXPECT_EQ(r["version"], healthz()["version"]);   // consultd's own, not the file's
    // Another writer (the outbox's push, the test's own reads) may hold the lock for a moment: "busy" then
    // is the truth, so the store must come back to "ok", not be "ok" at this very instant.
    EXPECT_TRUE(wait_for([&] {
        return json::parse(daemon->http("GET", "/healthz", "", {}, 5000).body).value("db", "") == "ok";
    }, 10s)) << daemon->http("GET", "/healthz", "", {}, 5000).body;
}

TEST_F(FleetStatus, ConsultctlStatusPrintsTheReportsLines) {
    start_paired(0);
    ASSERT_TRUE(wait_for([&] { return cloud_row().is_object(); }, 60s));
    ASSERT_TRUE(wait_for([&] { return waiting_reports() == 0; }, 30s));
    auto text = ctl({"status"});
    EXPECT_NE(text.out.find("device id:       dev\n"), std::string::npos) << text.out << text.err;
    EXPECT_NE(text.out.find("booted slot:     b (marked good in this boot)\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("last update:     installed 0.2.0 at 2027-01-15T03:00:00.000Z: running since the restart"),
              std::string::npos) << text.out;
    EXPECT_NE(text.out.find("uptime:          consultd "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(", box 1h 23m\n"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("failures (24 h): session create 0, media 0, webhooks refused 0"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("fleet report:    made at "), std::string::npos) << text.out;
    EXPECT_NE(text.out.find(", sent (every 15m 0s)"), std::string::npos) << text.out;
    auto as_json = ctl({"status", "--json"});
    auto j = json::parse(as_json.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << as_json.out;
    EXPECT_EQ(j["fleet"]["report"]["booted_slot"], "b") << as_json.out;
    EXPECT_EQ(j["fleet"]["report"]["last_update_result"], "installed");
}

TEST_F(FleetStatus, TheRouteIsForAdminsOnly) {
    start_paired(0);
    EXPECT_EQ(daemon->http("GET", "/api/system/fleet-status", "", {}, 5000).status, 401);
    auto refused = daemon->http("GET", "/api/system/fleet-status", "", {"Authorization: Bearer " + token("doctor", kDoctor)}, 5000);
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(refused.body.find("booted_slot"), std::string::npos);
    EXPECT_EQ(daemon->http("GET", "/api/system/fleet-status", "", {"Authorization: Bearer not-a-token"}, 5000).status, 401);
    auto r = daemon->http("GET", "/api/system/fleet-status", "", {"Authorization: Bearer " + token("admin", "it")}, 5000);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["report"]["booted_slot"], "b");
}

}  // namespace
}  // namespace consult::test::cloud
