// What is not a recorded part: a clear error (or the part left out with a note while
// others are fine), quickly, and never a hang or a half-written output.
#include "compose_fixture.hpp"

#include "compose_loop.hpp"
#include "compose_track_names.hpp"
#include "hwconfig/gref.hpp"
#include "pipelines/compose.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace consult::test::composing {
namespace {

class ComposeHostileTest : public ::testing::Test {
protected:
    expected<media::ComposeResult, std::string> compose(std::vector<std::string> parts) {
        media::ComposeJob j;
        j.parts = std::move(parts);
        j.output = output;
        const auto started = std::chrono::steady_clock::now();
        auto r = media::compose(j, {});
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
        return r;
    }

    std::string random_file(const std::string& name, std::size_t size) {
        std::mt19937 gen(7);
        std::string bytes(size, '\0');
        for (char& c : bytes) c = char(gen());
        return dir.write(name, bytes).string();
    }

    TempDir dir;
    std::string output = (dir / "consult.webm").string();
};

TEST_F(ComposeHostileTest, EachBadPartAloneIsAClearErrorAndLeavesNoOutput) {
    const std::string header = make_part(dir, "good.mkv", PartSpec{1});
    std::string head(400, '\0');
    std::ifstream(header, std::ios::binary).read(head.data(), std::streamsize(head.size()));
    const std::map<std::string, std::string> cases{
        {(dir / "missing.mkv").string(), "no such file"},
        {dir.write("empty.mkv", "").string(), "empty file"},
        {dir.write("notes.txt", "not a recording\n").string(), "not a Matroska file"},
        {random_file("noise.mkv", 200000), "not a Matroska file"},
        // A Matroska header cut before its tracks.
        {dir.write("no-tracks.mkv", head.substr(0, 300)).string(), "cannot be read"},
        {dir.path().string(), "not a regular file"},
    };
    for (const auto& [path, why] : cases) {
        auto r = compose({path});
        ASSERT_FALSE(r) << path;
        EXPECT_NE(r.error().find("no part can be composed"), std::string::npos) << r.error();
        EXPECT_NE(r.error().find(why), std::string::npos) << r.error();
        EXPECT_FALSE(std::filesystem::exists(output)) << path;
    }
}

TEST_F(ComposeHostileTest, MatroskaWithNoTrackWeKnowIsRefused) {
    // A real Matroska file, but its only track is titled as none of the four.
    const std::string path = (dir / "odd.mkv").string();
    GErrorOut err;
    GRef<GstElement> p = adopt(gst_parse_launch(("audiotestsrc num-buffers=50 ! opusenc ! taginject tags=\"title=music\" ! "
                                                 "matroskamux ! filesink location=" + path).c_str(), err.out()));
    ASSERT_TRUE(p);
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    GRef<GstBus> bus = adopt(gst_element_get_bus(p.get()));
    GstMessagePtr m{gst_bus_timed_pop_filtered(bus.get(), 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR))};
    gst_element_set_state(p.get(), GST_STATE_NULL);
    auto r = compose({path});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("'music' is none of the four"), std::string::npos) << r.error();
}

TEST_F(ComposeHostileTest, BadPartsBesideGoodOnesAreLeftOutWithANote) {
    const std::string good = make_part(dir, "good.mkv", PartSpec{2});
    auto r = compose({(dir / "gone.mkv").string(), good, dir.write("empty.mkv", "").string()});
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->notes.size(), 2u);
    EXPECT_NE(r->notes[0].find("part 1 (gone.mkv) left out: no such file"), std::string::npos) << r->notes[0];
    EXPECT_NE(r->notes[1].find("part 3 (empty.mkv) left out: empty file"), std::string::npos) << r->notes[1];
    EXPECT_NEAR(double(r->duration.count()) / 1000.0, seconds(media_end(good)), 0.2);
}

// A part whose header and blocks read fine but whose picture its decoder refuses (an
// H.264 track with a broken avcC, the codec configuration): the scan, which only
// demuxes, takes it; the composition fails on it. That part is left out with a note,
// and the parts around it are composed back to back.
TEST_F(ComposeHostileTest, APartThatFailsWhileComposedIsLeftOutAndTheOthersFollowOn) {
    const std::string first = make_part(dir, "first.mkv", PartSpec{2});
    const std::string broken = (dir / "broken.mkv").string();
    GErrorOut err;
    GRef<GstElement> p = adopt(gst_parse_launch(
        ("videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,framerate=15/1 ! x264enc ! h264parse ! "
         "video/x-h264,stream-format=avc ! capssetter caps=\"video/x-h264,codec_data=(buffer)0142c01effe1\" ! "
         "taginject tags=\"title=room-video\" ! mux. "
         "audiotestsrc num-buffers=94 ! opusenc ! taginject tags=\"title=room-audio\" ! mux. "
         "matroskamux name=mux ! filesink location=" + broken).c_str(), err.out()));
    ASSERT_TRUE(p) << err.message();
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    GRef<GstBus> bus = adopt(gst_element_get_bus(p.get()));
    GstMessagePtr m{gst_bus_timed_pop_filtered(bus.get(), 30 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR))};
    gst_element_set_state(p.get(), GST_STATE_NULL);
    ASSERT_TRUE(m && GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_EOS);
    const std::string last = make_part(dir, "last.mkv", PartSpec{2});

    auto alone = compose({broken});
    ASSERT_FALSE(alone);
    EXPECT_NE(alone.error().find("no part can be composed; part 1 (broken.mkv): "), std::string::npos) << alone.error();
    EXPECT_FALSE(std::filesystem::exists(output));

    auto r = compose({first, broken, last});
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->notes.size(), 1u);
    EXPECT_EQ(r->notes[0].rfind("part 2 (broken.mkv) left out: room-video", 0), 0u) << r->notes[0];
    EXPECT_NEAR(double(r->duration.count()) / 1000.0, seconds(media_end(first)) + seconds(media_end(last)), 0.3);
    const Discovered d = discover(output);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_NEAR(double(d.duration) / GST_SECOND, double(r->duration.count()) / 1000.0, 0.3);
}

// Two of the patient's frames that reached the recorder within one millisecond carry the
// same time in the file (Matroska counts milliseconds), and the H.264 decoder hands the
// second on with no time at all (seen on a loaded box: the composition stopped there).
// Such a frame is dropped, and the whole part is composed, in either codec.
TEST_F(ComposeHostileTest, TwoFramesWithTheSameTimeDoNotCutThePart) {
    for (const char* codec : {"openh264", "vp8"}) {
        PartSpec spec{4};
        spec.patient_codec = codec;
        spec.patient_twin_frames = true;
        const std::string part = make_part(dir, std::string("twins-") + codec + ".mkv", spec);
        std::filesystem::remove(output);
        auto r = compose({part});
        ASSERT_TRUE(r) << codec << ": " << r.error();
        EXPECT_TRUE(r->notes.empty()) << codec << ": " << r->notes.front();
        EXPECT_NEAR(double(r->duration.count()) / 1000.0, 4.0, 0.3) << codec;
    }
}

TEST_F(ComposeHostileTest, AnExistingOutputIsNeverOverwritten) {
    const std::string good = make_part(dir, "good.mkv", PartSpec{1});
    dir.write("consult.webm", "someone else's");
    auto r = compose({good});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("exists already"), std::string::npos) << r.error();
    std::ifstream in(output);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "someone else's");
}

TEST_F(ComposeHostileTest, UnknownEncoderIsRefused) {
    media::ComposeJob j;
    j.parts = {make_part(dir, "good.mkv", PartSpec{1})};
    j.output = output;
    j.encoder = "no-such-enc";
    auto r = media::compose(j, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("unknown encoder"), std::string::npos);
}

TEST_F(ComposeHostileTest, TheWatchdogEndsAPipelineThatStopsMoving) {
    // An appsrc nobody feeds: no data, no error, no EOS.
    GErrorOut err;
    GRef<GstElement> p = adopt(gst_parse_launch("appsrc ! fakesink", err.out()));
    ASSERT_TRUE(p);
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    media::composition::ComposeLoop loop(std::chrono::seconds(1), nullptr);
    const auto started = std::chrono::steady_clock::now();
    auto r = loop.run_until_eos({p.get(), "part 1"}, {}, [] { return std::uint64_t(0); });
    const auto took = std::chrono::steady_clock::now() - started;
    gst_element_set_state(p.get(), GST_STATE_NULL);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "part 1: no progress for 1 s: the pipeline stalled");
    EXPECT_LT(took, std::chrono::seconds(3));
}

TEST_F(ComposeHostileTest, TrackNamesSurviveEveryCutOfTheHeader) {
    // The track-header reader sees hostile bytes: every prefix of a real header, and noise.
    const std::string part = make_part(dir, "good.mkv", PartSpec{1});
    std::string bytes(4096, '\0');
    std::ifstream in(part, std::ios::binary);
    in.read(bytes.data(), std::streamsize(bytes.size()));
    bytes.resize(std::size_t(in.gcount()));
    const auto names = media::composition::matroska_track_names_in(bytes);
    ASSERT_EQ(names.size(), 4u);
    EXPECT_EQ(names.at(1), "room-video");
    EXPECT_EQ(names.at(4), "patient-audio");
    std::size_t grew = 0;
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        const auto some = media::composition::matroska_track_names_in(std::string_view(bytes).substr(0, n));
        EXPECT_LE(some.size(), 4u);
        grew = std::max(grew, some.size());
    }
    EXPECT_EQ(grew, 4u);
    std::mt19937 gen(11);
    for (int round = 0; round < 2000; ++round) {
        std::string noise = bytes.substr(0, 64);
        noise.resize(64 + gen() % 512);
        for (std::size_t i = 8; i < noise.size(); ++i)
            if (gen() % 4 == 0) noise[i] = char(gen());
        (void)media::composition::matroska_track_names_in(noise);
    }
    EXPECT_EQ(media::composition::track_number_from_stream_id("abc123/003:4567"), 3u);
    EXPECT_EQ(media::composition::track_number_from_stream_id("abc123/x:1"), 0u);
    EXPECT_EQ(media::composition::track_number_from_stream_id(""), 0u);
}

}  // namespace
}  // namespace consult::test::composing
