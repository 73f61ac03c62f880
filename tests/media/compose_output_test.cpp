// Which container and encoders a composition gets, from the probe's encoder choice and
// what is installed (a stand-in registry: no GStreamer needed).
#include "compose_output.hpp"

#include <gtest/gtest.h>

#include <set>

namespace consult::test::composing {
namespace {

using media::ComposeContainer;
using media::composition::choose_output;

hw::ElementExists installed(std::set<std::string> names) {
    return [names = std::move(names)](std::string_view f) { return names.count(std::string(f)) > 0; };
}

const std::set<std::string> kBase{"webmmux", "mp4mux", "vp8enc", "opusenc", "x264enc", "avenc_aac", "aacparse", "h264parse"};

TEST(ComposeOutputTest, AHardwareH264EncoderMakesAnMp4WithAac) {
    auto with_va = kBase;
    with_va.insert({"vah264enc", "vapostproc"});
    auto p = choose_output("vah264enc", ComposeContainer::Auto, installed(with_va));
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->container, "mp4");
    EXPECT_EQ(p->video.factory, "vah264enc");
    EXPECT_EQ(p->video.convert, "vapostproc");
    EXPECT_EQ(p->audio.factory, "avenc_aac");
}

TEST(ComposeOutputTest, WithoutHardwareItIsVp8AndOpusInWebm) {
    for (const char* choice : {"auto", "", "x264enc", "openh264enc", "vp8enc"}) {
        auto p = choose_output(choice, ComposeContainer::Auto, installed(kBase));
        ASSERT_TRUE(p) << p.error();
        EXPECT_EQ(p->container, "webm") << choice;
        EXPECT_EQ(p->video.factory, "vp8enc");
        EXPECT_EQ(p->audio.factory, "opusenc");
    }
    // The probe chose a hardware encoder this box no longer has: said so, and VP8.
    auto p = choose_output("vah264enc", ComposeContainer::Auto, installed(kBase));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->container, "webm");
    ASSERT_EQ(p->notes.size(), 1u);
}

TEST(ComposeOutputTest, Mp4OnRequestTakesSoftwareH264AndFallsBackToOpus) {
    auto p = choose_output("auto", ComposeContainer::Mp4, installed({"mp4mux", "x264enc", "h264parse", "opusenc"}));
    ASSERT_TRUE(p) << p.error();
    EXPECT_EQ(p->video.factory, "x264enc");
    EXPECT_EQ(p->audio.codec, "opus");
    EXPECT_EQ(p->notes.size(), 1u);
    auto none = choose_output("auto", ComposeContainer::Mp4, installed({"mp4mux", "opusenc"}));
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().find("no H.264 encoder"), std::string::npos);
}

TEST(ComposeOutputTest, MissingPiecesAndUnknownEncodersAreErrors) {
    EXPECT_FALSE(choose_output("no-such-enc", ComposeContainer::Auto, installed(kBase)));
    auto p = choose_output("auto", ComposeContainer::WebM, installed({"webmmux", "opusenc"}));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), "vp8enc is not installed");
}

}  // namespace
}  // namespace consult::test::composing
