// The kiosk's device settings over real HTTP against consultd --demo (no camera on a
// test machine, so the test sources): the lists and choices, a change saved to
// <state-dir>/devices.conf and read again after a restart, bad values refused with
// their field, the admin-only rule and a JPEG preview of the test pattern.
#include "api_fixture.hpp"

#include <sys/stat.h>

#include <thread>

namespace consult::test::api {
namespace {

const std::string kDevices = "/api/system/devices";
const std::string kPreview = "/api/system/camera/preview.jpg";

// GET /api/system/devices once the probe has finished (503 "probing" until then).
Reply devices_when_probed(const std::function<Reply()>& get) {
    Reply r;
    for (int i = 0; i < 150; ++i) {
        r = get();
        if (r.status != 503) return r;
        std::this_thread::sleep_for(200ms);
    }
    return r;
}

bool is_jpeg(const std::string& b) {
    return b.size() > 4 && uint8_t(b[0]) == 0xFF && uint8_t(b[1]) == 0xD8 && uint8_t(b[b.size() - 2]) == 0xFF &&
           uint8_t(b[b.size() - 1]) == 0xD9;
}

class DeviceSettings : public ApiTest {
protected:
    Reply devices() {
        return devices_when_probed([&] { return api.call("GET", kDevices, api.admin); });
    }
    fs::path conf() { return api.proc().state_dir() / "devices.conf"; }
};

TEST_F(DeviceSettings, GetListsTheProbedDevicesTheChoicesAndTheConfiguredValues) {
    auto r = devices();
    ASSERT_EQ(r.status, 200) << r.text();
    for (const char* list : {"cameras", "microphones", "speakers"}) EXPECT_TRUE(r.body["devices"][list].is_array()) << list;
    EXPECT_EQ(r.body["configured"]["camera"], "auto");
    EXPECT_EQ(r.body["configured"]["content_camera"], "none");
    EXPECT_EQ(r.body["camera"]["test_source"], r.body["devices"]["cameras"].empty());
    EXPECT_EQ(r.body["content_camera"]["name"], "none");
    EXPECT_FALSE(r.body["call_running"].get<bool>());
    // Admin only.
    EXPECT_TRUE(is_error(api.call("GET", kDevices, api.doctor_b), 403, "forbidden"));
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.doctor_b, {{"camera", "test"}}), 403, "forbidden"));
    EXPECT_EQ(api.call("GET", kDevices, "").status, 401);
}

TEST_F(DeviceSettings, PutSavesTheChoiceAppliesItToTheNextCallAndAudits) {
    ASSERT_EQ(devices().status, 200);
    auto r = api.call("PUT", kDevices, api.admin,
                      {{"camera", "test"}, {"content_camera", "test"}, {"microphone", "test"}, {"speaker", "none"}});
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["applies_to"], "next call");
    EXPECT_FALSE(r.body["message"].get<std::string>().empty());
    EXPECT_EQ(r.body["configured"]["content_camera"], "test");
    EXPECT_EQ(r.body["camera"]["reason"], "configured");
    EXPECT_EQ(r.body["content_camera"]["test_source"], true);
    EXPECT_NE(r.body["content_camera"]["name"], "none") << "the content camera is now the test pattern";
    EXPECT_EQ(r.body["speaker"]["name"], "none");
    // The next GET sees it.
    EXPECT_EQ(api.call("GET", kDevices, api.admin).body["configured"], r.body["configured"]);

    // The file: 0600, the four [media] keys.
    struct stat st{};
    ASSERT_EQ(::stat(conf().c_str(), &st), 0) << conf();
    EXPECT_EQ(st.st_mode & 0777, 0600);
    const std::string text = read_file(conf());
    EXPECT_NE(text.find("[media]"), std::string::npos) << text;
    EXPECT_NE(text.find("content_camera=test"), std::string::npos) << text;
    EXPECT_NE(text.find("speaker=none"), std::string::npos) << text;

    auto rows = api.query_rows("SELECT actor, role, detail FROM audit_log WHERE action = 'devices.change'");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0], kAdminId);
    EXPECT_EQ(rows[0][1], "admin");
    EXPECT_NE(rows[0][2].find("content_camera"), std::string::npos) << rows[0][2];
}

TEST_F(DeviceSettings, BadValuesAreRefusedWithTheirField) {
    ASSERT_EQ(devices().status, 200);
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, {{"camera", "/dev/video99"}}), 422, "unknown_device", "camera"));
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, {{"camera", "none"}}), 422, "unknown_device", "camera"))
        << "the room camera cannot be none";
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, {{"microphone", "none"}}), 422, "unknown_device",
                         "microphone"));
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, {{"speaker", "Nowhere Speaker"}}), 422,
                         "unknown_device", "speaker"));
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, {{"encoder", "x264enc"}}), 422, "unknown_field", "encoder"));
    EXPECT_TRUE(is_error(api.call("PUT", kDevices, api.admin, json::object()), 422, "missing_field"));
    EXPECT_FALSE(fs::exists(conf())) << "nothing was saved";
    EXPECT_TRUE(api.query_rows("SELECT id FROM audit_log WHERE action = 'devices.change'").empty());
}

TEST_F(DeviceSettings, ThePreviewIsAJpegOfTheTestPatternAndContentNoneIs404) {
    ASSERT_EQ(devices().status, 200);
    EXPECT_TRUE(is_error(api.call("GET", kPreview + "?which=content", api.admin), 404, "no_content_camera"));
    EXPECT_TRUE(is_error(api.call("GET", kPreview, api.doctor_b), 403, "forbidden"));
    EXPECT_TRUE(is_error(api.call("GET", kPreview + "?which=back", api.admin), 400, "invalid_enum", "which"));

    auto r = api.call("GET", kPreview + "?which=camera", api.admin);
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.raw.header("content-type").value_or(""), "image/jpeg");
    EXPECT_EQ(r.raw.header("cache-control").value_or(""), "no-store");
    EXPECT_TRUE(is_jpeg(r.raw.body)) << r.raw.body.size() << " bytes";

    ASSERT_EQ(api.call("PUT", kDevices, api.admin, {{"content_camera", "test"}}).status, 200);
    auto content = api.call("GET", kPreview + "?which=content", api.admin);
    ASSERT_EQ(content.status, 200) << content.text();
    EXPECT_TRUE(is_jpeg(content.raw.body));
    EXPECT_TRUE(api.healthy()) << "the loop answered while the preview was made";
}

TEST_F(DeviceSettings, TheSavedChoiceSurvivesARestart) {
    ASSERT_EQ(devices().status, 200);
    ASSERT_EQ(api.call("PUT", kDevices, api.admin, {{"content_camera", "test"}, {"speaker", "none"}}).status, 200);
    const std::string admin = api.admin;   // same state dir, same signing key
    ASSERT_TRUE(api.proc().terminate().exited);

    ConsultdProcess again({.state_dir = api.proc().state_dir()});
    ASSERT_TRUE(again.start()) << again.start_error();
    ASSERT_TRUE(again.wait_for_healthz(30)) << again.stderr_text();
    auto r = devices_when_probed([&] { return to_reply(again.http("GET", kDevices, "", {bearer(admin)}, 10000)); });
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["configured"]["content_camera"], "test");
    EXPECT_EQ(r.body["configured"]["speaker"], "none");
    EXPECT_EQ(r.body["configured"]["camera"], "auto");
    EXPECT_NE(r.body["content_camera"]["name"], "none") << "the probe at start-up used the saved choice";
}

}  // namespace
}  // namespace consult::test::api
