// `consultctl update` end to end on the host: the real consultd (is anyone in a
// consultation?), the PostgREST stand-in (which release?), the bundle server stand-in (the
// download) and a stand-in for the rauc program (tests/standins/fake_rauc.sh), with the
// restart and the boot id replaced through the environment (update/ctl_update.hpp).
// The image's QEMU test (tests/image/boot_test.sh) runs the real RAUC and real restarts.
#include "api_fixture.hpp"
#include "fake_rauc.hpp"
#include "postgrest_standin.hpp"
#include "python_standin.hpp"

#include "appliance/version.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <thread>
#include <sys/stat.h>

namespace consult::test::api {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kBundleSize = 256 * 1024;

class BundleFiles : public PythonStandin {
public:
    BundleFiles() : PythonStandin("bundle_server.py", {}) {}
    // The file served at /bundle.raucb: `head`, then random bytes up to kBundleSize. Its sha256.
    std::string serve(const std::string& head, int seed = 1) const {
        return control("file", {{"size", kBundleSize}, {"seed", seed}, {"head", head}})["sha256"].get<std::string>();
    }
    void mode(const std::string& m, nlohmann::json with = nlohmann::json::object()) const {
        with["mode"] = m;
        with["count"] = -1;
        control("mode", with);
    }
    std::string bundle_url() const { return url() + "/bundle.raucb"; }
};

class UpdateCtl : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_.start();
        const fs::path creds = state() / "credentials";
        write_file(creds / "cloud-api-key", PostgrestStandin::kApiKey);
        write_file(creds / "cloud-device-token", cloud_.token(kClinic));
        ::chmod((creds / "cloud-api-key").c_str(), 0600);
        ::chmod((creds / "cloud-device-token").c_str(), 0600);
        config("00:00-00:00");
    }

    fs::path state() const { return daemon_.proc().state_dir(); }

    void config(const std::string& window) {
        write_file(dir_ / "ctl.conf", "[http]\nport=" + std::to_string(daemon_.proc().port()) + "\n[cloud]\nurl=" +
                                          cloud_.url() + "\nclinic_id=" + kClinic + "\n[update]\nwindow=" + window + "\n");
    }

    // `live_out`: stdout goes to that file as the service's goes to the journal (not a
    // terminal), readable while consultctl runs.
    CommandResult ctl(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s,
                      const fs::path& live_out = {}) const {
        std::vector<std::string> argv{consultctl_bin(), "--config", (dir_ / "ctl.conf").string(), "--state-dir",
                                      state().string(), "update"};
        argv.insert(argv.end(), args.begin(), args.end());
        if (!live_out.empty()) argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$@\" >\"$0\"", live_out.string()});
        auto env = rauc_.env();
        env.emplace_back("CONSULT_UPDATE_TEST_LOOPBACK_HTTP", "1");
        return run_command(argv, timeout, env);
    }

    // Publishes `version` whose bundle starts with `head`; `sha256` replaces the file's own.
    void publish(const std::string& version, const std::string& head, std::string sha256 = "") {
        const std::string real = files_.serve(head);
        cloud_.publish_release({{"version", version}, {"bundle_url", files_.bundle_url()},
                                {"sha256", sha256.empty() ? real : sha256}, {"size_bytes", kBundleSize}});
    }

    std::string rauc_log() const { return rauc_.log(); }

    json status() const {
        auto r = ctl({"status", "--json"});
        EXPECT_EQ(r.code(), 0) << r.err;
        auto j = json::parse(r.out, nullptr, false);
        EXPECT_TRUE(j.is_object()) << r.out;
        return j;
    }

    static std::string last_field(const json& s, const char* key) {
        return s.contains("last") && s["last"].is_object() ? s["last"].value(key, "") : "";
    }

    mutable ApiDaemon daemon_;   // proc() is not const
    PostgrestStandin cloud_;
    BundleFiles files_;
    TempDir dir_;
    FakeRauc rauc_{dir_.path()};
};

TEST_F(UpdateCtl, TheOfferedReleaseIsInstalledTheBoxRestartsAndAFailedVersionIsNeverTriedAgain) {
    publish("2.0.0", fake_bundle_head("2.0.0"));
    auto r = ctl({"check"});
    ASSERT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
    EXPECT_TRUE(fs::is_empty(state() / "update" / "bundles")) << "the installed bundle is not kept";
    json s = status();
    EXPECT_EQ(s["pending"].value("version", ""), "2.0.0");
    EXPECT_EQ(last_field(s, "result"), "installed");
    EXPECT_EQ(s.value("booted_slot", ""), "rootfs.0");
    EXPECT_EQ(s.value("marked_good", false), true);

    // The box came back after the restart still on this version: 2.0.0 failed its boot check.
    write_file(rauc_.boot_id(), "boot-2\n");
    s = status();
    EXPECT_TRUE(s["pending"].is_null());
    EXPECT_EQ(last_field(s, "result"), "rolled-back");
    EXPECT_EQ(last_field(s, "version"), "2.0.0");
    EXPECT_EQ(s["rolled_back"], json::array({"2.0.0"}));

    r = ctl({"check"});
    EXPECT_EQ(r.code(), 0) << r.err;
    EXPECT_NE(r.out.find("2.0.0 failed its boot check on this box before"), std::string::npos) << r.out;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n") << "a rolled-back version was tried again";

    // A newer release is taken as usual.
    publish("2.0.1", fake_bundle_head("2.0.1"));
    EXPECT_EQ(ctl({"check"}).code(), 0);
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\ninstall 2.0.1\nrestart\n");
}

TEST_F(UpdateCtl, ThePendingVersionRunningAfterTheRestartIsInstalled) {
    fs::create_directories(state() / "update");
    write_file(state() / "update" / "state.json",
               json{{"pending", {{"version", version()}, {"from_version", "0.0.9"}, {"boot_id", "boot-0"}}}}.dump());
    const json s = status();
    EXPECT_TRUE(s["pending"].is_null());
    EXPECT_EQ(last_field(s, "result"), "installed");
    EXPECT_EQ(last_field(s, "version"), version());
    EXPECT_NE(last_field(s, "reason").find("was 0.0.9"), std::string::npos);
    EXPECT_EQ(ctl({"check"}).code(), 0);   // the cloud offers nothing: up to date
    EXPECT_EQ(rauc_log(), "");
}

TEST_F(UpdateCtl, RefusedBundlesAreNeverInstalledAndSayWhy) {
    struct Case {
        const char* what;
        std::string version, head;
        bool wrong_sha;
        int code;
        std::string result, reason;
    };
    const std::vector<Case> cases{
        {"signed by another key", "2.0.0", "BAD-SIGNATURE\n" + fake_bundle_head("2.0.0"), false, 1, "refused",
         "signature verification failed"},
        {"for another family", "2.0.1", fake_bundle_head("2.0.1", "another-family"), false, 1, "refused",
         "made for 'another-family', this box is 'consult-appliance-x86_64'"},
        {"holding another version than the release", "2.0.2", fake_bundle_head("9.9.9"), false, 1, "refused",
         "the bundle holds 9.9.9, not the release's 2.0.2"},
        {"with another SHA-256 than the release row", "2.0.3", fake_bundle_head("2.0.3"), true, 1, "refused", "download:"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        publish(c.version, c.head, c.wrong_sha ? std::string(64, 'a') : "");
        const auto r = ctl({"check"});
        EXPECT_EQ(r.code(), c.code) << r.out << r.err;
        const json s = status();
        EXPECT_EQ(last_field(s, "result"), c.result);
        EXPECT_EQ(last_field(s, "version"), c.version);
        EXPECT_NE(last_field(s, "reason").find(c.reason), std::string::npos) << last_field(s, "reason");
        EXPECT_TRUE(s["pending"].is_null());
        EXPECT_TRUE(fs::is_empty(state() / "update" / "bundles")) << "a refused bundle was left on the disk";
    }

    // A download cut short is kept to be resumed, and nothing is installed from it.
    publish("2.0.4", fake_bundle_head("2.0.4"));
    files_.mode("cut", {{"bytes", 100000}});
    auto r = ctl({"check"});
    EXPECT_EQ(r.code(), 2) << r.out << r.err;
    json s = status();
    EXPECT_EQ(last_field(s, "result"), "failed");
    EXPECT_NE(last_field(s, "reason").find("download:"), std::string::npos) << last_field(s, "reason");
    files_.mode("normal");
    r = ctl({"check"});
    EXPECT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.4\nrestart\n") << "only the whole, checked bundle is installed";

    // RAUC's own refusal (e.g. a bundle changed after the download) is reported too.
    write_file(rauc_.boot_id(), "boot-2\n");   // (2.0.4 did not come up: rolled back)
    write_file(rauc_.dir() / "install-fails", "Installing `x` failed: Failed mounting bundle: dm-verity: hash mismatch\n");
    publish("2.0.5", fake_bundle_head("2.0.5"));
    r = ctl({"check"});
    EXPECT_EQ(r.code(), 1) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("RAUC did not install it: Installing `x` failed"), std::string::npos);
}

TEST_F(UpdateCtl, NothingIsInstalledDuringAConsultationAndTheRestartWaitsForItsEnd) {
    publish("2.0.0", fake_bundle_head("2.0.0"));
    const Session call = daemon_.in_progress_session();
    auto r = ctl({"check"});
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    json s = status();
    EXPECT_EQ(last_field(s, "result"), "postponed");
    EXPECT_NE(last_field(s, "reason").find("consultation is in progress"), std::string::npos) << last_field(s, "reason");
    EXPECT_EQ(rauc_log(), "");

    // Clinic IT's install of a file waits for the consultation too.
    write_file(dir_ / "stick.raucb", fake_bundle_head("2.0.0") + std::string(1000, 'x'));
    r = ctl({"install", (dir_ / "stick.raucb").string()});
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "");

    // Installed while nobody is in a consultation; a consultation then starts before the
    // restart: the restart waits for it to end.
    ASSERT_EQ(daemon_.call("POST", kSessions + "/" + call.id + "/end", daemon_.doctor_b).status, 200);
    r = ctl({"install", (dir_ / "stick.raucb").string()});
    ASSERT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\n") << "install without --restart does not restart";
    const Session next = daemon_.in_progress_session();
    const fs::path live = dir_ / "check.out";
    auto waiting = std::async(std::launch::async, [&] { return ctl({"check", "--poll-seconds", "1"}, 90s, live); });
    EXPECT_EQ(waiting.wait_for(4s), std::future_status::timeout) << "it did not wait for the consultation";
    EXPECT_EQ(rauc_log(), "install 2.0.0\n");
    EXPECT_NE(read_file(live).find("the restart into 2.0.0 waits"), std::string::npos)
        << "the journal would not hear why until the wait is over: '" << read_file(live) << "'";
    ASSERT_EQ(daemon_.call("POST", kSessions + "/" + next.id + "/end", daemon_.doctor_b).status, 200);
    r = waiting.get();
    EXPECT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_NE(read_file(live).find("restarting into 2.0.0"), std::string::npos) << read_file(live);
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
}

// A consultation that starts while the bundle downloads: the install waits, and the
// downloaded bundle is kept, so the next run installs it without fetching it again.
TEST_F(UpdateCtl, ABundleDownloadedWhileACallStartedIsKeptForTheNextRun) {
    publish("2.0.0", fake_bundle_head("2.0.0"));
    files_.mode("trickle", {{"bytes", kBundleSize - 16}});   // the last 16 bytes take 8 s
    auto first = std::async(std::launch::async, [&] { return ctl({"check"}, 90s); });
    const fs::path part = state() / "update" / "bundles" / "consult-appliance-2.0.0.raucb.part";
    for (int i = 0; i < 100 && !fs::exists(part); ++i) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(fs::exists(part)) << "the download did not start";
    const Session call = daemon_.in_progress_session();
    auto r = first.get();
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("consultation is in progress"), std::string::npos);
    EXPECT_EQ(rauc_log(), "");
    EXPECT_EQ(fs::file_size(part), kBundleSize) << "the whole bundle is kept";
    const auto served = files_.get("/_control/stats")["bytes_served"].get<std::uint64_t>();

    files_.mode("normal");
    ASSERT_EQ(daemon_.call("POST", kSessions + "/" + call.id + "/end", daemon_.doctor_b).status, 200);
    r = ctl({"check"});
    ASSERT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
    EXPECT_EQ(files_.get("/_control/stats")["bytes_served"].get<std::uint64_t>(), served) << "fetched again";
    EXPECT_TRUE(fs::is_empty(state() / "update" / "bundles"));
}

// A consultd too busy to answer (stopped here with SIGSTOP; a small box mid-call can be
// slow) is not a consultd that is gone: nothing is installed and the box does not restart.
TEST_F(UpdateCtl, AConsultdThatDoesNotAnswerCountsAsBusy) {
    publish("2.0.0", fake_bundle_head("2.0.0"));
    ASSERT_EQ(::kill(daemon_.proc().pid(), SIGSTOP), 0);
    auto r = ctl({"check"}, 90s);
    ::kill(daemon_.proc().pid(), SIGCONT);
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("consultd did not say whether a consultation is running"),
              std::string::npos) << last_field(status(), "reason");
    EXPECT_EQ(rauc_log(), "");
}

// consultd restarting (nothing listening for a moment) is waited for and asked; only a
// consultd that stays away lets the update go ahead without its word.
TEST_F(UpdateCtl, ARestartingConsultdIsWaitedForAndOnlyOneThatStaysAwayIsNotAsked) {
    publish("2.0.0", fake_bundle_head("2.0.0"));
    const Session call = daemon_.in_progress_session();
    daemon_.proc().terminate();
    auto first = std::async(std::launch::async, [&] { return ctl({"check"}, 90s); });
    std::this_thread::sleep_for(4s);
    daemon_.restart();
    auto r = first.get();
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("consultation is in progress"), std::string::npos)
        << last_field(status(), "reason");
    EXPECT_EQ(rauc_log(), "");

    ASSERT_EQ(daemon_.call("POST", kSessions + "/" + call.id + "/end", daemon_.doctor_b).status, 200);
    daemon_.proc().terminate();
    r = ctl({"check"}, 120s);
    EXPECT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
    daemon_.restart();
}

TEST_F(UpdateCtl, ActivityIsForAdminsAndCountsASessionInProgress) {
    EXPECT_EQ(daemon_.call("GET", "/api/system/activity", "").status, 401);
    EXPECT_EQ(daemon_.call("GET", "/api/system/activity", daemon_.doctor_b).status, 403);
    auto r = daemon_.call("GET", "/api/system/activity", daemon_.admin);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, (json{{"busy", false}, {"call_running", false}, {"occupied_rooms", 0}, {"sessions_in_progress", 0}}));
    daemon_.in_progress_session();
    r = daemon_.call("GET", "/api/system/activity", daemon_.admin);
    EXPECT_EQ(r.body.value("busy", false), true);
    EXPECT_EQ(r.body.value("sessions_in_progress", 0), 1);
}

TEST_F(UpdateCtl, OutsideTheMaintenanceWindowItWaitsUnlessClinicItSaysNow) {
    // A window that closed a minute ago and opens in an hour.
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    const int now = local.tm_hour * 60 + local.tm_min;
    auto hhmm = [](int m) {
        char b[8];
        m = (m % 1440 + 1440) % 1440;
        std::snprintf(b, sizeof b, "%02d:%02d", m / 60, m % 60);
        return std::string(b);
    };
    config(hhmm(now + 60) + "-" + hhmm(now - 1));
    publish("2.0.0", fake_bundle_head("2.0.0"));
    auto r = ctl({"check"});
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("outside the maintenance window"), std::string::npos);
    EXPECT_EQ(rauc_log(), "");
    r = ctl({"check", "--now"});
    EXPECT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");

    // An install whose restart was held past the window: the daytime runs do not restart.
    r = ctl({"check"});
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_NE(last_field(status(), "reason").find("installed; the restart waits: outside the maintenance window"),
              std::string::npos);
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
}

TEST_F(UpdateCtl, TheCloudsFailuresAreReportedAndAnUnpairedBoxHasNothingToAsk) {
    cloud_.fault("500");
    auto r = ctl({"check"});
    EXPECT_EQ(r.code(), 2) << r.out << r.err;
    EXPECT_EQ(last_field(status(), "result"), "failed");

    fs::remove(state() / "credentials" / "cloud-device-token");
    r = ctl({"check"});
    EXPECT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_NE(r.out.find("not paired"), std::string::npos) << r.out;
}

TEST_F(UpdateCtl, ClinicItsCommandsMarkGoodAndRefuseBadUsage) {
    auto r = ctl({"mark-good"});
    EXPECT_EQ(r.code(), 0) << r.err;
    EXPECT_EQ(rauc_log(), "mark-good booted\n");
    EXPECT_EQ(status().value("marked_good_this_boot", false), true);
    write_file(rauc_.boot_id(), "boot-2\n");
    EXPECT_EQ(status().value("marked_good_this_boot", true), false);
    EXPECT_EQ(ctl({"install", (dir_ / "missing.raucb").string()}).code(), 66);
    EXPECT_EQ(ctl({"install"}).code(), 64);
    EXPECT_EQ(ctl({"frobnicate"}).code(), 64);
    EXPECT_EQ(ctl({"check", "--poll-seconds", "0"}).code(), 64);
    EXPECT_EQ(ctl({"status", "--now"}).code(), 64);

    r = ctl({"status"});
    EXPECT_EQ(r.code(), 0) << r.err;
    EXPECT_NE(r.out.find("running:         " + std::string(version())), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("slot rootfs.0:   booted (next boot), good"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("slot rootfs.1:   inactive, good, 0.0.9"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("window:          00:00-00:00 (open now)"), std::string::npos) << r.out;

    // A state file that is not the updater's is an error, never overwritten.
    fs::create_directories(state() / "update");
    write_file(state() / "update" / "state.json", "{\"pending\": 7}");
    r = ctl({"check"});
    EXPECT_EQ(r.code(), 2);
    EXPECT_NE(r.err.find("pending is not an object"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(state() / "update" / "state.json"), "{\"pending\": 7}");
}

}  // namespace
}  // namespace consult::test::api
