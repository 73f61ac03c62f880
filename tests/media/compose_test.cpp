// The composition after a call: recorded parts in, one playable file out. Parts are made
// in the test with GStreamer; the output is checked with GstDiscoverer and a full decode.
#include "compose_fixture.hpp"

#include "pipelines/compose.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cmath>

namespace consult::test::composing {
namespace {

using media::ComposeContainer;
using media::ComposeJob;
using media::ComposeLayout;

class ComposeTest : public ::testing::Test {
protected:
    media::ComposeJob job(std::vector<std::string> parts, const std::string& name) {
        ComposeJob j;
        j.parts = std::move(parts);
        j.output = (dir / name).string();
        return j;
    }

    // The output has one picture and one sound, lasts `expected` and decodes to its end.
    void expect_playable(const std::string& path, GstClockTime expected, int width, int height) {
        const Discovered d = discover(path);
        ASSERT_TRUE(d.ok) << d.error;
        EXPECT_EQ(d.video_streams, 1u);
        EXPECT_EQ(d.audio_streams, 1u);
        EXPECT_EQ(d.width, width);
        EXPECT_EQ(d.height, height);
        EXPECT_NEAR(seconds(d.duration), seconds(expected), 1.0);
        const Decoded dec = decode_to_end(path);
        EXPECT_TRUE(dec.reached_eos) << dec.error;
        EXPECT_NEAR(seconds(dec.last_video_end), seconds(expected), 0.5);
        EXPECT_NEAR(seconds(dec.last_audio_end), seconds(expected), 0.5);
        // 30 frames a second all the way: no part is missing and none is stretched.
        EXPECT_NEAR(double(dec.video_frames), seconds(expected) * 30.0, 30.0);
    }

    TempDir dir;
};

TEST_F(ComposeTest, PartsWithMissingTracksAndACutOffPartMakeOneContinuousFile) {
    const std::string full = make_part(dir, "part1.mkv", PartSpec{6});
    PartSpec no_patient_video{4};
    no_patient_video.patient_video = false;
    no_patient_video.room_codec = "vp8";
    const std::string audio_only_patient = make_part(dir, "part2.mkv", no_patient_video);
    const std::string cut = make_part(dir, "part3.mkv", PartSpec{6});
    cut_tail(cut, 1.0 / 3.0);
    const GstClockTime sum = media_end(full) + media_end(audio_only_patient) + media_end(cut);
    ASSERT_GT(seconds(sum), 12.0);

    std::vector<double> progress;
    const auto started = std::chrono::steady_clock::now();
    auto result = media::compose(job({full, audio_only_patient, cut}, "consult.webm"),
                                 [&](double p) { progress.push_back(p); });
    const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_TRUE(result) << result.error();
    std::printf("composed %.1f s of three parts in %.1f s\n", seconds(sum), took);

    EXPECT_EQ(result->container, "webm");   // no hardware H.264 encoder named: VP8 + Opus
    EXPECT_EQ(result->video_codec, "vp8");
    EXPECT_EQ(result->audio_codec, "opus");
    EXPECT_NEAR(double(result->duration.count()) / 1000.0, seconds(sum), 1.0);
    struct stat st {};
    ASSERT_EQ(::stat(result->output.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(std::uint64_t(st.st_size), result->size_bytes);
    expect_playable(result->output, sum, 1280, 360);

    ASSERT_FALSE(progress.empty());
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
    EXPECT_EQ(progress.back(), 1.0);
}

TEST_F(ComposeTest, PictureInPictureAsMp4WithAac) {
    const std::string part = make_part(dir, "part1.mkv", PartSpec{4});
    ComposeJob j = job({part}, "consult.mp4");
    j.layout = ComposeLayout::PictureInPicture;
    j.container = ComposeContainer::Mp4;   // no hardware here: x264enc stands in
    auto result = media::compose(j, {});
    ASSERT_TRUE(result) << result.error();
    EXPECT_EQ(result->container, "mp4");
    EXPECT_EQ(result->video_codec, "h264");
    EXPECT_EQ(result->audio_codec, "aac");
    expect_playable(result->output, media_end(part), 1280, 720);
}

TEST_F(ComposeTest, EachPictureLandsInItsOwnHalfEvenFromACrashedPart) {
    // The crash leaves no Tags element: the video titles come from the track headers.
    PartSpec spec{3};
    spec.room_pattern = "white";
    spec.patient_pattern = "red";
    const std::string crashed = make_crashed_part(dir, "crashed.mkv", spec);
    const GstClockTime length = media_end(crashed);
    ASSERT_GT(seconds(length), 1.5);
    auto result = media::compose(job({crashed}, "consult.webm"), {});
    ASSERT_TRUE(result) << result.error();
    EXPECT_TRUE(result->notes.empty()) << result->notes.front();
    expect_playable(result->output, length, 1280, 360);

    const Frame f = frame_at(result->output, GST_SECOND);
    ASSERT_TRUE(f.ok);
    const Rgb room = f.at(320, 180), patient = f.at(960, 180), pillarbox = f.at(650, 180);
    EXPECT_GT(room.r, 200) << "room: white on the left";
    EXPECT_GT(room.g, 200);
    EXPECT_GT(room.b, 200);
    EXPECT_GT(patient.r, 200) << "patient: red on the right";
    EXPECT_LT(patient.g, 60);
    EXPECT_LT(pillarbox.r + pillarbox.g + pillarbox.b, 60) << "a 4:3 picture keeps its shape, on black";
}

TEST_F(ComposeTest, APictureThatStartsLateAndEndsEarlyLeavesItsHalfBlackAroundIt) {
    PartSpec spec{6};
    spec.patient_pattern = "red";
    spec.patient_video_from = 2;
    spec.patient_video_seconds = 2;
    const std::string part = make_part(dir, "part1.mkv", spec);
    auto result = media::compose(job({part}, "consult.webm"), {});
    ASSERT_TRUE(result) << result.error();
    expect_playable(result->output, media_end(part), 1280, 360);
    const auto patient_at = [&](double s) {
        const Frame f = frame_at(result->output, GstClockTime(s * GST_SECOND));
        EXPECT_TRUE(f.ok) << s;
        return f.at(960, 180);
    };
    EXPECT_LT(patient_at(1.0).r, 40) << "before the patient's camera started";
    EXPECT_GT(patient_at(3.0).r, 200) << "while it ran";
    EXPECT_LT(patient_at(5.0).r, 40) << "after the patient left";
}

TEST_F(ComposeTest, APartWithoutPicturesIsBlackWithItsVoices) {
    PartSpec voices{3};
    voices.room_video = voices.patient_video = false;
    const std::string first = make_part(dir, "part1.mkv", PartSpec{3});
    const std::string second = make_part(dir, "part2.mkv", voices);
    auto result = media::compose(job({first, second}, "consult.webm"), {});
    ASSERT_TRUE(result) << result.error();
    expect_playable(result->output, media_end(first) + media_end(second), 1280, 360);
    const Frame f = frame_at(result->output, media_end(first) + GST_SECOND);
    ASSERT_TRUE(f.ok);
    const Rgb left = f.at(320, 180);
    EXPECT_LT(left.r + left.g + left.b, 60);
}

}  // namespace
}  // namespace consult::test::composing
