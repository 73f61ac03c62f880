#include "hwconfig/encoder_table.hpp"
#include "hwconfig/probe.hpp"

#include <gtest/gtest.h>

#include <set>

namespace consult::hw {
namespace {

ElementExists only(std::set<std::string> present) {
    return [present](std::string_view f) { return present.count(std::string(f)) > 0; };
}

std::vector<std::string> factories(const std::vector<const EncoderRow*>& rows) {
    std::vector<std::string> out;
    for (auto* r : rows) out.emplace_back(r->factory);
    return out;
}

TEST(EncoderTable, HasEveryEncoderTheApplianceKnows) {
    std::set<std::string> names;
    for (const auto& row : encoder_table()) names.emplace(row.factory);
    EXPECT_EQ(names, (std::set<std::string>{"vah264enc", "vaapih264enc", "v4l2h264enc", "x264enc",
                                            "openh264enc", "vp8enc"}));
}

TEST(EncoderTable, H264RowsAskForConstrainedBaselineAndRepeatConfig) {
    for (const auto& row : encoder_table()) {
        if (row.codec != Codec::H264) continue;
        EXPECT_NE(row.output_caps.find("profile=constrained-baseline"), std::string_view::npos) << row.factory;
        EXPECT_EQ(row.parser, "h264parse") << row.factory;
        bool config_interval = false;
        for (const auto& p : row.payloader_props) config_interval |= p.name == "config-interval" && p.value == "-1";
        EXPECT_TRUE(config_interval) << row.factory;
    }
}

TEST(EncoderTable, HardwareRanksFirstWhenPresent) {
    auto all = encoders_available(only({"x264enc", "vp8enc", "vah264enc", "openh264enc"}));
    EXPECT_EQ(factories(all), (std::vector<std::string>{"vah264enc", "x264enc", "openh264enc", "vp8enc"}));
}

TEST(EncoderTable, SoftwareOnlyBoxFallsBackInOrder) {
    EXPECT_EQ(factories(encoders_available(only({"vp8enc", "openh264enc"}))),
              (std::vector<std::string>{"openh264enc", "vp8enc"}));
    EXPECT_EQ(factories(encoders_available(only({"vp8enc"}))), (std::vector<std::string>{"vp8enc"}));
    EXPECT_TRUE(encoders_available(only({})).empty());
}

TEST(EncoderTable, PinnedEncoderIsTheOnlyCandidate) {
    auto exists = only({"x264enc", "vp8enc", "vah264enc"});
    EXPECT_EQ(factories(encoders_available(exists, "vp8enc")), (std::vector<std::string>{"vp8enc"}));
    EXPECT_TRUE(encoders_available(exists, "v4l2h264enc").empty()) << "pinned but absent: nothing";
}

TEST(EncoderTable, BitrateUnitsAreTheRowsBusiness) {
    EXPECT_EQ(find_encoder("x264enc")->bitrate_value(1500), 1500u);
    EXPECT_EQ(find_encoder("openh264enc")->bitrate_value(1500), 1'500'000u);
    EXPECT_EQ(find_encoder("vp8enc")->bitrate_value(1500), 1'500'000u);
    EXPECT_EQ(find_encoder("nope"), nullptr);
}

TEST(DecoderTable, HardwareFirstPerCodec) {
    auto h264 = decoders_available(only({"openh264dec", "vah264dec", "vp8dec"}), Codec::H264);
    ASSERT_EQ(h264.size(), 2u);
    EXPECT_EQ(h264[0]->factory, "vah264dec");
    EXPECT_EQ(decoders_available(only({"vp8dec"}), Codec::VP8).size(), 1u);
}

TEST(CameraModes, PrefersNativeH264ThenRawAndRespectsTheCap) {
    ProbeSettings s;  // 1280x720@30
    std::vector<Mode> modes{{"video/x-raw", 1920, 1080, 30}, {"video/x-raw", 1280, 720, 10},
                            {"video/x-raw", 640, 480, 30}, {"image/jpeg", 1280, 720, 30},
                            {"video/x-h264", 1280, 720, 30}};
    auto best = best_mode(modes, s, false);
    ASSERT_TRUE(best);
    EXPECT_EQ(best->media, "video/x-h264");
    modes.pop_back();
    best = best_mode(modes, s, false);
    ASSERT_TRUE(best);
    EXPECT_EQ(best->media, "video/x-raw") << "MJPEG only with a hardware JPEG decoder";
    EXPECT_EQ(best->width, 640) << "720p at 10 fps loses to 480p at 30 fps";
    EXPECT_EQ(best_mode(modes, s, true)->media, "image/jpeg");
    s.max_fps = 15;
    EXPECT_EQ(best_mode(modes, s, false)->fps, 15);
    s.max_fps = 10;
    EXPECT_EQ(best_mode(modes, s, false)->width, 1280) << "at a 10 fps cap the larger mode wins";
    EXPECT_FALSE(best_mode({{"video/x-raw", 3840, 2160, 30}}, ProbeSettings{}, false));
}

TEST(Sources, FallBackToTestSourcesWithAReason) {
    ProbeSettings s;
    auto none = choose_source({}, "auto", s, false, DeviceKind::Camera);
    EXPECT_TRUE(none.test_source);
    EXPECT_EQ(none.reason, "no device found");
    std::vector<Device> cams{{"Room cam", "Video/Source", "/dev/video0", {{"video/x-raw", 1280, 720, 30}}},
                             {"Intra-oral", "Video/Source", "/dev/video2", {{"video/x-raw", 640, 480, 30}}}};
    auto first = choose_source(cams, "auto", s, false, DeviceKind::Camera);
    EXPECT_FALSE(first.test_source);
    EXPECT_EQ(first.path, "/dev/video0");
    EXPECT_EQ(choose_source(cams, "/dev/video2", s, false, DeviceKind::Camera).name, "Intra-oral");
    auto missing = choose_source(cams, "/dev/video9", s, false, DeviceKind::Camera);
    EXPECT_TRUE(missing.test_source);
    EXPECT_NE(missing.reason.find("/dev/video9"), std::string::npos);
    EXPECT_TRUE(choose_source(cams, "test", s, false, DeviceKind::Camera).test_source);
    EXPECT_EQ(choose_source({}, "auto", s, false, DeviceKind::Speaker).name, "none");
}

TEST(Sources, AMicrophoneKeepsTheElementThatOpensIt) {
    std::vector<Device> mics{{"USB speakerphone", "Audio/Source", "hw:2", {}, "alsasrc", {{"device", "hw:2"}}}};
    auto mic = choose_source(mics, "USB speakerphone", ProbeSettings{}, false, DeviceKind::Microphone);
    EXPECT_FALSE(mic.test_source);
    EXPECT_EQ(mic.element, "alsasrc");
    ASSERT_EQ(mic.element_props.size(), 1u);
    EXPECT_EQ(mic.element_props[0].name, "device");
    EXPECT_EQ(mic.element_props[0].value, "hw:2");
}

}  // namespace
}  // namespace consult::hw
