// An update from a USB stick, asked for on the kiosk, end to end on the host: the real
// consultd takes the admin's request (POST /api/system/update/stick), the real
// `consultctl update stick` answers it as root does on the box (consult-update-stick.service),
// with a folder standing for the mounted stick (CONSULT_UPDATE_STICK_DIR), the rauc program
// replaced by tests/standins/fake_rauc.sh and the restart by a script. Each side reads the
// other's file as hostile. The image's QEMU test mounts a real USB stick and runs real RAUC.
#include "api_fixture.hpp"
#include "fake_rauc.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

namespace consult::test::api {
namespace {

using namespace std::chrono_literals;

const std::string kStick = "/api/system/update/stick";
// A bundle as the rauc stand-in reads it, a little longer than its first lines.
std::string bundle(const std::string& version, const std::string& family = kFakeRaucFamily) {
    return fake_bundle_head(version, family) + std::string(4096, '\0');
}

class UpdateStick : public ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        write_file(dir_ / "ctl.conf", "[http]\nport=" + std::to_string(api.proc().port()) + "\n");
    }

    fs::path state() { return api.proc().state_dir(); }
    fs::path request_file() { return state() / "update-stick" / "request"; }
    fs::path result_file() { return state() / "update-stick" / "result"; }

    // `consultctl update stick` as root runs it on the box, the stick at `stick_`.
    CommandResult root_answers() {
        auto env = rauc_.env();
        env.emplace_back("CONSULT_UPDATE_STICK_DIR", stick_.string());
        return run_command({consultctl_bin(), "--config", (dir_ / "ctl.conf").string(), "--state-dir", state().string(),
                            "update", "stick", "--poll-seconds", "1"},
                           60s, env);
    }

    std::string ask(const json& body) {
        auto r = api.call("POST", kStick, api.admin, body);
        EXPECT_EQ(r.status, 202) << r.text();
        return r.body.is_object() && r.body["request"].is_object() ? r.body["request"].value("id", "") : "";
    }

    json answer() {
        auto r = api.call("GET", kStick, api.admin);
        EXPECT_EQ(r.status, 200) << r.text();
        return r.body.is_object() && r.body["result"].is_object() ? r.body["result"] : json();
    }

    std::string rauc_log() { return rauc_.log(); }
    std::size_t audits(const std::string& action) {
        return api.query_rows("SELECT id FROM audit_log WHERE action = '" + action + "'").size();
    }

    TempDir dir_;
    fs::path stick_ = dir_ / "stick";
    FakeRauc rauc_{dir_.path()};
};

TEST_F(UpdateStick, TheKioskSeesWhatTheStickHoldsAndInstallsTheGoodBundleThenTheBoxRestarts) {
    fs::create_directories(stick_);
    write_file(stick_ / "consult-appliance-2.0.0.raucb", bundle("2.0.0"));
    write_file(stick_ / "other-family.raucb", bundle("2.0.0", "another-family-x86_64"));
    write_file(stick_ / "bad-signature.raucb", "BAD-SIGNATURE\n" + bundle("2.0.0"));
    write_file(stick_ / "notes.txt", "not an update");
    fs::create_directories(stick_ / "folder.raucb");
    fs::create_symlink(stick_ / "consult-appliance-2.0.0.raucb", stick_ / "link.raucb");
    fs::create_symlink("/etc/passwd", stick_ / "passwd.raucb");

    const std::string id = ask({{"action", "look"}});
    ASSERT_EQ(id.size(), 16u);
    auto pending = api.call("GET", kStick, api.admin);
    EXPECT_TRUE(pending.body["result"].is_null()) << "nothing answered yet";
    EXPECT_EQ(pending.body["request"].value("action", ""), "look");
    EXPECT_EQ(pending.raw.header("cache-control").value_or(""), "no-store");
    EXPECT_TRUE(is_error(api.call("POST", kStick, api.admin, {{"action", "look"}}), 409, "stick_busy"))
        << "one request at a time";

    auto r = root_answers();
    ASSERT_EQ(r.code(), 0) << r.out << r.err;
    json found = answer();
    ASSERT_TRUE(found.is_object());
    EXPECT_EQ(found["id"], id);
    EXPECT_EQ(found["state"], "found");
    EXPECT_EQ(found["message"], "3 updates on the USB stick, 1 that this box can install.");
    ASSERT_EQ(found["bundles"].size(), 3u) << found.dump() << ": links, folders and other files are not offered";
    std::map<std::string, json> by_name;
    for (const auto& b : found["bundles"]) by_name[b["name"]] = b;
    EXPECT_EQ(by_name["consult-appliance-2.0.0.raucb"]["version"], "2.0.0");
    EXPECT_EQ(by_name["consult-appliance-2.0.0.raucb"]["problem"], "");
    EXPECT_EQ(by_name["consult-appliance-2.0.0.raucb"]["size_bytes"], bundle("2.0.0").size());
    EXPECT_THAT(by_name["other-family.raucb"]["problem"].get<std::string>(), ::testing::HasSubstr("made for 'another-family-x86_64'"));
    EXPECT_THAT(by_name["bad-signature.raucb"]["problem"].get<std::string>(), ::testing::HasSubstr("signature"));
    EXPECT_EQ(rauc_log(), "") << "looking installs nothing";
    EXPECT_EQ(root_answers().code(), 0) << "a second start for the same request does nothing";
    EXPECT_EQ(answer()["at"], found["at"]);

    const std::string install = ask({{"action", "install"}, {"file", "consult-appliance-2.0.0.raucb"}});
    ASSERT_NE(install, id);
    r = root_answers();
    ASSERT_EQ(r.code(), 0) << r.out << r.err;
    EXPECT_EQ(rauc_log(), "install 2.0.0\nrestart\n");
    json done = answer();
    EXPECT_EQ(done["id"], install);
    EXPECT_EQ(done["state"], "installed");
    EXPECT_EQ(done["version"], "2.0.0");
    EXPECT_THAT(done["message"].get<std::string>(), ::testing::HasSubstr("restarts into it now"));
    EXPECT_EQ(audits("update.stick_look"), 1u) << "the refused second look is not audited";
    EXPECT_EQ(audits("update.stick_install"), 1u);

    // `update status` says the same as after `update install`.
    auto status = run_command({consultctl_bin(), "--config", (dir_ / "ctl.conf").string(), "--state-dir", state().string(),
                               "update", "status", "--json"},
                              30s, rauc_.env());
    auto s = json::parse(status.out, nullptr, false);
    ASSERT_TRUE(s.is_object()) << status.out << status.err;
    EXPECT_EQ(s["pending"].value("version", ""), "2.0.0");
    EXPECT_EQ(s["last"].value("result", ""), "installed");
}

TEST_F(UpdateStick, RefusedBundlesNoStickAndNoUpdateAreSaidAndNothingIsInstalled) {
    ask({{"action", "look"}});
    ASSERT_EQ(root_answers().code(), 0);
    EXPECT_EQ(answer()["state"], "no_stick");
    EXPECT_THAT(answer()["message"].get<std::string>(), ::testing::HasSubstr("No USB stick was found"));

    fs::create_directories(stick_);
    write_file(stick_ / "holiday.jpg", "not an update");
    ask({{"action", "look"}});
    ASSERT_EQ(root_answers().code(), 0);
    EXPECT_EQ(answer()["state"], "no_bundle");
    EXPECT_THAT(answer()["message"].get<std::string>(), ::testing::HasSubstr("holds no update"));

    write_file(stick_ / "other-family.raucb", bundle("2.0.0", "another-family-x86_64"));
    ask({{"action", "install"}, {"file", "other-family.raucb"}});
    auto r = root_answers();
    EXPECT_EQ(r.code(), 1) << r.out << r.err;
    json refused = answer();
    EXPECT_EQ(refused["state"], "refused");
    EXPECT_THAT(refused["message"].get<std::string>(), ::testing::HasSubstr("made for 'another-family-x86_64'"));
    EXPECT_THAT(refused["message"].get<std::string>(), ::testing::HasSubstr("keeps running"));

    ask({{"action", "install"}, {"file", "gone-1.0.raucb"}});
    ASSERT_EQ(root_answers().code(), 0);
    EXPECT_EQ(answer()["state"], "no_bundle");
    EXPECT_THAT(answer()["message"].get<std::string>(), ::testing::HasSubstr("not on the USB stick"));
    EXPECT_EQ(rauc_log(), "");
}

TEST_F(UpdateStick, NothingIsInstalledWhileAConsultationRuns) {
    fs::create_directories(stick_);
    write_file(stick_ / "consult-appliance-2.0.0.raucb", bundle("2.0.0"));
    api.in_progress_session();
    EXPECT_TRUE(is_error(api.call("POST", kStick, api.admin, {{"action", "install"}, {"file", "consult-appliance-2.0.0.raucb"}}),
                         409, "consultation_running"));
    // Asked just before the consultation started: root asks consultd again and waits.
    fs::create_directories(request_file().parent_path());
    write_file(request_file(), R"({"id":"00112233445566ff","action":"install","file":"consult-appliance-2.0.0.raucb","at":""})");
    auto r = root_answers();
    EXPECT_EQ(r.code(), 4) << r.out << r.err;
    EXPECT_EQ(answer()["state"], "postponed");
    EXPECT_THAT(answer()["message"].get<std::string>(), ::testing::HasSubstr("Try again after the consultation"));
    EXPECT_EQ(rauc_log(), "");
}

TEST_F(UpdateStick, HostileRequestsAndFilesAreRefusedWithTheReason) {
    fs::create_directories(stick_);
    write_file(stick_ / "consult-appliance-2.0.0.raucb", bundle("2.0.0"));
    for (const auto& body : {json{{"action", "format"}}, json{{"action", "install"}, {"file", "../../etc/shadow"}},
                             json{{"action", "install"}, {"file", "consult.raucb/x.raucb"}},
                             json{{"action", "install"}, {"file", ".hidden.raucb"}}, json{{"action", "install"}}})
        EXPECT_GE(api.call("POST", kStick, api.admin, body).status, 400) << body.dump();
    EXPECT_EQ(api.call("POST", kStick, api.doctor_a, {{"action", "look"}}).status, 403);
    EXPECT_EQ(api.call("GET", kStick, api.doctor_a).status, 403);
    EXPECT_EQ(api.call("GET", kStick, "").status, 401);
    EXPECT_FALSE(fs::exists(request_file()));

    // What root reads: junk, a request for a file outside the stick, a link.
    fs::create_directories(request_file().parent_path());
    for (const std::string& junk : {std::string("{not json"), std::string(R"({"id":"00112233445566ff","action":"install","file":"../x.raucb"})"),
                                    std::string(R"({"id":"'; rm -rf /","action":"look"})"), std::string(20000, '{')}) {
        write_file(request_file(), junk);
        auto r = root_answers();
        EXPECT_EQ(r.code(), 2) << junk.substr(0, 60);
        EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
    }
    fs::remove(request_file());
    fs::create_symlink(stick_ / "consult-appliance-2.0.0.raucb", request_file());
    EXPECT_EQ(root_answers().code(), 2) << "a request through a link is not read";
    EXPECT_EQ(rauc_log(), "");

    // What consultd reads: root's result, as junk or for another request, is no answer.
    fs::remove(request_file());
    const std::string id = ask({{"action", "look"}});
    for (const std::string& junk : {std::string("[]"), json{{"id", id}, {"state", "installed"}, {"version", "$(reboot)"}}.dump(),
                                    json{{"id", id}, {"state", "rebooting"}}.dump(),
                                    json{{"id", "ffffffffffffffff"}, {"state", "found"}}.dump()}) {
        write_file(result_file(), junk);
        EXPECT_TRUE(answer().is_null()) << junk;
        EXPECT_TRUE(api.healthy());
    }
}

}  // namespace
}  // namespace consult::test::api
