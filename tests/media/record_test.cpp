// Recording a running call (pipelines/src/recorder.hpp): the file's tracks and their
// names, keyframe starts, a crash mid-recording, a full disk, the patient leaving. Every
// wait has a deadline; run inside the network namespace like the other media tests.
// CONSULT_KEEP_RECORDINGS=1 keeps the files (their folder is named in the output).
#include "call_fixture.hpp"
#include "mkv_reader.hpp"
#include "pipelines/compose.hpp"

#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace consult::test {
namespace {

using namespace std::chrono_literals;
using media::MediaEvent;

class RecordingTest : public CallFixture {
protected:
    void SetUp() override {
        GCharPtr made(g_dir_make_tmp("consult-rec-XXXXXX", nullptr));
        ASSERT_TRUE(made);
        dir = made.get();
    }
    void TearDown() override {
        CallFixture::TearDown();
        std::error_code ignored;
        if (!std::getenv("CONSULT_KEEP_RECORDINGS")) std::filesystem::remove_all(dir, ignored);
    }

    // A call with the patient sending video and audio, both ways flowing.
    RemotePeer& call_with_patient(hw::Codec codec = hw::Codec::H264) {
        start(settings(codec == hw::Codec::H264 ? "x264enc" : "vp8enc"));
        return patient_flowing(codec);
    }
    // The patient connects and both directions carry video and audio; a recording
    // started after this holds all four tracks.
    RemotePeer& patient_flowing(hw::Codec codec) {
        RemotePeer& r = connect("patient", codec);
        EXPECT_TRUE(run_until([&] {
            const auto& s = last_stats["patient"];
            return r.video_frames > 10 && r.audio_buffers > 10 && s.frames_decoded > 5 && s.audio_buffers_decoded > 5;
        }, 25s)) << "the call never got going";
        return r;
    }
    bool wait_for(MediaEvent e, std::chrono::milliseconds limit) {
        return run_until([&] { return saw(e); }, limit);
    }
    media::RecordingOptions options(const std::string& name) {
        media::RecordingOptions o;
        o.file = dir / name;
        o.patient = "patient";
        return o;
    }
    // The call goes on: both directions still carry video and audio.
    void expect_call_goes_on(RemotePeer& r) {
        const unsigned video = r.video_frames, audio = r.audio_buffers;
        const auto incoming = last_stats["patient"].frames_decoded;
        EXPECT_TRUE(run_until([&] {
            return r.video_frames > video + 30 && r.audio_buffers > audio + 30 && last_stats["patient"].frames_decoded > incoming + 15;
        }, 10s)) << "the call stalled: " << r.video_frames - video << " frames, " << r.audio_buffers - audio << " audio buffers";
        EXPECT_FALSE(saw(MediaEvent::PeerFailed));
        EXPECT_FALSE(saw(MediaEvent::BranchFailed));
    }
    void picture_changing_size(hw::Codec codec, const std::string& name);

    std::filesystem::path dir;
};

TEST_F(RecordingTest, ARecordedCallHasFourNamedTracksThatStartOnKeyframes) {
    RemotePeer& r = call_with_patient();
    const auto o = options("consult.mkv");
    auto started = call->start_recording(o);
    ASSERT_TRUE(started.has_value()) << started.error().describe();
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(call->recording());
    EXPECT_FALSE(call->start_recording(options("second.mkv")).has_value()) << "one recording at a time";
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s)) << "no keyframe reached the file";
    EXPECT_EQ(last_detail, o.file.string());
    run_until([] { return false; }, std::chrono::duration_cast<std::chrono::milliseconds>(20s - (std::chrono::steady_clock::now() - t0)));
    const auto bytes = call->recorded_bytes();
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    EXPECT_FALSE(call->recording());
    EXPECT_GT(bytes, 100'000u);
    expect_call_goes_on(r);

    struct stat st {};
    ASSERT_EQ(::stat(o.file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const Discovered d = discover(o.file);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.count(true), 2);
    EXPECT_EQ(d.count(false), 2);
    for (const char* title : {"room-video", "room-audio", "patient-video", "patient-audio"})
        EXPECT_TRUE(d.has(title)) << "no track named " << title;
    const Demuxed m = demux(o.file);
    EXPECT_NEAR(double(d.duration) / GST_SECOND, 20.0, 1.0)
        << "the demuxer says " << double(m.duration) / GST_SECOND << " s; file in " << dir;
    EXPECT_TRUE(m.reached_end && m.error.empty()) << m.error;
    ASSERT_EQ(m.tracks.size(), 4u);
    for (const auto& [pad, t] : m.tracks) {
        std::fprintf(stderr, "%-14s %4u buffers, %.3f s to %.3f s, %s\n", t.title.c_str(), t.buffers,
                     double(t.first_pts) / GST_SECOND, double(t.last_pts) / GST_SECOND, t.caps.substr(0, 60).c_str());
        EXPECT_GT(t.buffers, 50u) << t.title;
        if (t.caps.rfind("video/", 0) == 0) {
            EXPECT_TRUE(t.first_is_keyframe) << t.title << " starts on a delta frame";
        }
        EXPECT_LT(t.first_pts, 2 * GST_SECOND) << t.title << ": the file's timeline starts near 0";
    }
}

// A helper process (record_child.cpp) and what it prints.
class Child {
public:
    explicit Child(std::vector<std::string> args) {
        std::vector<gchar*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        GErrorOut err;
        if (!g_spawn_async_with_pipes(nullptr, argv.data(), nullptr, GSpawnFlags(G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH),
                                      nullptr, nullptr, &pid_, nullptr, &out_, nullptr, err.out()))
            said = std::string("cannot start: ") + err.message();
    }
    ~Child() {
        if (pid_) kill();
        if (out_ >= 0) ::close(out_);
    }
    // Reads what it prints until `text` appears, it closes its output, or `limit` passes.
    bool read_until(const std::string& text, std::chrono::seconds limit) {
        const gint64 deadline = g_get_monotonic_time() + std::chrono::microseconds(limit).count();
        while (out_ >= 0 && said.find(text) == std::string::npos && g_get_monotonic_time() < deadline) {
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, 200) <= 0) continue;
            char buf[256];
            const ssize_t n = ::read(out_, buf, sizeof buf);
            if (n <= 0) break;
            said.append(buf, size_t(n));
        }
        return said.find(text) != std::string::npos;
    }
    void kill() {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        g_spawn_close_pid(pid_);
        pid_ = 0;
    }
    std::string said;

private:
    GPid pid_ = 0;
    gint out_ = -1;
};

// The helper records; it is killed with SIGKILL ten seconds into the recording.
TEST_F(RecordingTest, AFileKilledMidRecordingPlaysUpToItsLastSeconds) {
    const std::filesystem::path file = dir / "killed.mkv";
    Child child({CONSULT_RECORD_CHILD, file.string()});
    const bool started = child.read_until("started\n", 60s);
    gint64 recording_us = 0;   // it says "recording <monotonic µs>" just before it starts
    std::istringstream(child.said.substr(std::min(child.said.size(), child.said.find("recording ") + 10))) >> recording_us;
    if (started) g_usleep(10 * G_USEC_PER_SEC);
    const gint64 killed_us = g_get_monotonic_time();
    child.kill();
    ASSERT_TRUE(started && recording_us > 0) << "the helper never started recording; it said:\n" << child.said;

    const Demuxed m = demux(file);
    ASSERT_GE(m.tracks.size(), 2u) << "nothing readable in the killed file; " << m.error;
    const double recorded_s = double(killed_us - recording_us) / G_USEC_PER_SEC;
    const double last_s = double(m.last_pts()) / GST_SECOND;
    std::fprintf(stderr, "killed %.1f s after the recording started; the file reads to %.1f s (%s)\n", recorded_s, last_s,
                 m.error.empty() ? "clean end" : m.error.c_str());
    EXPECT_GT(last_s, recorded_s - 5.0) << "recorded for " << recorded_s << " s, readable up to " << last_s << " s";
    EXPECT_LT(last_s, recorded_s + 3.0) << "more in the file than was recorded";
    std::set<std::string> titles;
    for (const auto& [pad, t] : m.tracks) {
        titles.insert(t.title);
        if (t.caps.rfind("video/", 0) == 0) {
            EXPECT_TRUE(t.first_is_keyframe) << pad << " (" << t.title << ") starts on a delta frame";
        }
    }
    EXPECT_EQ(titles, (std::set<std::string>{"room-video", "room-audio", "patient-video", "patient-audio"}))
        << "a file cut short still names its tracks";
}

// A really full disk: the helper records onto a 512 kB tmpfs mounted in a mount namespace
// of its own (needs root, as the network namespace of these tests does).
TEST_F(RecordingTest, AFullDiskEndsTheRecordingNotTheCall) {
    const std::filesystem::path mount = dir / "tiny";
    std::filesystem::create_directory(mount);
    Child child({"unshare", "-m", "--propagation", "private", "sh", "-c",
                 "mount -t tmpfs -o size=512k tmpfs \"$0\" || { echo no-mount; exit 77; }; exec \"$1\" \"$0/full.mkv\" --until-failed",
                 mount.string(), CONSULT_RECORD_CHILD});
    const bool went_on = child.read_until("call goes on", 90s);
    if (!went_on && child.said.find("no-mount") != std::string::npos) GTEST_SKIP() << "no tmpfs of our own here (mounting needs root)";
    EXPECT_NE(child.said.find("failed: the disk is full"), std::string::npos) << child.said;
    EXPECT_TRUE(went_on) << "the call did not go on after the disk filled; the helper said:\n" << child.said;
}

// A file size limit makes write() fail as a full disk would (without mounting anything).
struct FileSizeLimit {
    rlimit before{};
    explicit FileSizeLimit(rlim_t bytes) {
        ::signal(SIGXFSZ, SIG_IGN);   // EFBIG from write() instead of a signal
        ::getrlimit(RLIMIT_FSIZE, &before);
        rlimit small = before;
        small.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    ~FileSizeLimit() { ::setrlimit(RLIMIT_FSIZE, &before); }
};

TEST_F(RecordingTest, AFileSizeLimitEndsTheRecordingAndNotTheCall) {
    RemotePeer& r = call_with_patient();
    {
        FileSizeLimit limit(256 * 1024);
        ASSERT_TRUE(call->start_recording(options("full.mkv")).has_value());
        ASSERT_TRUE(wait_for(MediaEvent::RecordingFailed, 30s)) << "the write error went unnoticed";
        std::fprintf(stderr, "failed because: %s\n", last_detail.c_str());
        EXPECT_FALSE(call->recording());
        expect_call_goes_on(r);
    }
    // The recorder left nothing behind: a new recording works.
    events.clear();
    ASSERT_TRUE(call->start_recording(options("after.mkv")).has_value());
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s));
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
}

TEST_F(RecordingTest, ThePatientLeavingEndsItsTracksAndTheRoomGoesOn) {
    call_with_patient();
    const auto o = options("left.mkv");
    ASSERT_TRUE(call->start_recording(o).has_value());
    const auto t0 = std::chrono::steady_clock::now();
    auto since_start = [t0] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s));
    run_for(5s);
    const double left_s = since_start();
    call->remove_peer("patient");
    run_for(5s);
    EXPECT_TRUE(call->recording());
    EXPECT_FALSE(saw(MediaEvent::RecordingFailed));
    const double stopped_s = since_start();
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    const Discovered d = discover(o.file);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.tracks.size(), 4u);
    EXPECT_NEAR(double(d.duration) / GST_SECOND, stopped_s, 1.0);
    const Demuxed m = demux(o.file);
    EXPECT_TRUE(m.reached_end && m.error.empty()) << m.error;
    for (const auto& [pad, t] : m.tracks) {
        const double last = double(t.last_pts) / GST_SECOND;
        if (t.title.rfind("patient", 0) == 0) {
            EXPECT_NEAR(last, left_s, 1.0) << t.title << " ends when the patient left";
        } else {
            EXPECT_NEAR(last, stopped_s, 1.0) << t.title << " goes on to the stop";
        }
    }
}

// The call ends while recording (the doctor hangs up): the file is still finished.
TEST_F(RecordingTest, EndingTheCallFinishesTheFile) {
    call_with_patient();
    const auto o = options("hung-up.mkv");
    ASSERT_TRUE(call->start_recording(o).has_value());
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s));
    run_for(4s);
    const double recorded_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    call.reset();
    run_for(2s);   // the file finishes on GStreamer's threads; the loop only runs the fallback timer
    const Discovered d = discover(o.file);
    ASSERT_TRUE(d.ok) << d.error;
    EXPECT_EQ(d.tracks.size(), 4u);
    EXPECT_NEAR(double(d.duration) / GST_SECOND, recorded_s, 1.0) << "the duration is written when the file is finished";
    const Demuxed m = demux(o.file);
    EXPECT_TRUE(m.reached_end && m.error.empty()) << m.error;
}

TEST_F(RecordingTest, WithoutThePatientOnlyTheRoomIsRecorded) {
    call_with_patient();
    auto o = options("room.mkv");
    o.include_patient = false;
    ASSERT_TRUE(call->start_recording(o).has_value());
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s));
    run_for(3s);
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    const Discovered d = discover(o.file);
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(d.tracks.size(), 2u);
    EXPECT_TRUE(d.has("room-video") && d.has("room-audio"));
}

// A Firefox-like patient (VP8 only): the room's one running encoder is VP8, and that is
// what is recorded (no H.264 encoder starts for the recording); both pictures are VP8 in
// the file, and the composition after the call reads them.
TEST_F(RecordingTest, AVp8OnlyCallIsRecordedAsItIsEncodedAndComposes) {
    auto s = settings("x264enc");
    s.fallbacks = {hw::find_encoder("vp8enc")};
    start(s);
    RemotePeer& r = patient_flowing(hw::Codec::VP8);
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(call->running_encoders(), std::vector<std::string>{"venc_VP8_enc"});
    const auto o = options("vp8.mkv");
    ASSERT_TRUE(call->start_recording(o).has_value());
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s)) << "no keyframe reached the file";
    run_for(6s);
    EXPECT_EQ(call->running_encoders(), std::vector<std::string>{"venc_VP8_enc"}) << "the recording started no encoder";
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    expect_call_goes_on(r);

    const Demuxed m = demux(o.file);
    EXPECT_TRUE(m.reached_end && m.error.empty()) << m.error;
    ASSERT_EQ(m.tracks.size(), 4u);
    for (const auto& [pad, t] : m.tracks) {
        if (t.caps.rfind("video/", 0) != 0) continue;
        EXPECT_EQ(t.caps.rfind("video/x-vp8", 0), 0u) << t.title << ": " << t.caps;
        EXPECT_TRUE(t.first_is_keyframe) << t.title << " starts on a delta frame";
    }
    EXPECT_NEAR(double(m.duration) / GST_SECOND, 6.0, 1.0);

    media::ComposeJob job;
    job.parts = {o.file.string()};
    job.output = (dir / "vp8-composed.webm").string();
    auto composed = media::compose(job, {});
    ASSERT_TRUE(composed.has_value()) << composed.error();
    EXPECT_NEAR(double(composed->duration.count()) / 1000, 6.0, 1.0);
    EXPECT_TRUE(composed->notes.empty()) << composed->notes.front();
}

// A browser changes the size it sends as its link and its CPU allow (Chromium starts
// small, grows, and shrinks again under load), in either codec. The file goes on through
// it: one file, no failure, the patient's picture to the end, and the composition reads
// it across the change.
void RecordingTest::picture_changing_size(hw::Codec codec, const std::string& name) {
    RemotePeer& r = call_with_patient(codec);
    const auto o = options(name + ".mkv");
    ASSERT_TRUE(call->start_recording(o).has_value());
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStarted, 10s)) << "no keyframe reached the file";
    run_for(1s);
    for (auto [w, h] : {std::pair{640, 360}, {480, 270}, {160, 120}, {636, 358}, {320, 240}}) {
        const auto decoded = last_stats["patient"].frames_decoded;
        r.send_size(w, h);
        EXPECT_TRUE(run_until([&] { return last_stats["patient"].frames_decoded > decoded + 20; }, 10s))
            << "the appliance stopped decoding the patient at " << w << "x" << h;
    }
    run_for(1s);
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    EXPECT_FALSE(saw(MediaEvent::RecordingFailed)) << last_detail;
    expect_call_goes_on(r);

    const Demuxed m = demux(o.file);
    EXPECT_TRUE(m.reached_end && m.error.empty()) << m.error;
    const DemuxedTrack* patient = nullptr;
    for (const auto& [pad, t] : m.tracks)
        if (t.title == "patient-video") patient = &t;
    ASSERT_NE(patient, nullptr);
    EXPECT_GT(double(patient->last_pts) / GST_SECOND, double(m.last_pts()) / GST_SECOND - 1.0)
        << "the patient's picture stops before the end of the file";

    media::ComposeJob job;
    job.parts = {o.file.string()};
    job.output = (dir / (name + ".webm")).string();
    auto composed = media::compose(job, {});
    ASSERT_TRUE(composed.has_value()) << composed.error();
    EXPECT_TRUE(composed->notes.empty()) << composed->notes.front();
    EXPECT_NEAR(double(composed->duration.count()) / 1000, double(m.last_pts()) / GST_SECOND, 1.0);
}

TEST_F(RecordingTest, ThePatientsH264PictureChangingSizeMidRecordingStaysInTheFile) {
    picture_changing_size(hw::Codec::H264, "resized-h264");
}

TEST_F(RecordingTest, ThePatientsVp8PictureChangingSizeMidRecordingStaysInTheFile) {
    picture_changing_size(hw::Codec::VP8, "resized-vp8");
}

// The doctor taps Record and the patient says yes while the patient's media is still on
// its way (a slow link): the recording starts with the room alone, the call says which of
// the patient's tracks it lacks once they arrive, and the next recording holds them.
TEST_F(RecordingTest, APatientWhoseMediaArrivesAfterTheStartIsNamedAsMissingFromTheRecording) {
    start(settings("x264enc"));
    RemotePeer& r = connect("patient", hw::Codec::H264);
    const auto early = options("early.mkv");
    ASSERT_TRUE(call->start_recording(early).has_value());
    EXPECT_FALSE(call->recording_misses("patient")) << "nothing of the patient has arrived yet";
    ASSERT_TRUE(run_until([&] {
        return std::count(events.begin(), events.end(), std::pair<std::string, media::MediaEvent>{"patient", media::MediaEvent::TrackArrived}) == 2;
    }, 25s)) << "the patient's audio and video never arrived";
    EXPECT_TRUE(call->recording_misses("patient"));
    call->stop_recording();
    ASSERT_TRUE(wait_for(MediaEvent::RecordingStopped, 10s));
    EXPECT_FALSE(call->recording_misses("patient")) << "no recording runs";

    const auto next = options("next.mkv");
    ASSERT_TRUE(call->start_recording(next).has_value());
    EXPECT_FALSE(call->recording_misses("patient"));
    ASSERT_TRUE(run_until([&] { return std::count(events.begin(), events.end(),
                                                  std::pair<std::string, media::MediaEvent>{"", MediaEvent::RecordingStarted}) == 2; }, 10s));
    run_for(2s);
    call->stop_recording();
    ASSERT_TRUE(run_until([&] { return std::count(events.begin(), events.end(),
                                                  std::pair<std::string, media::MediaEvent>{"", MediaEvent::RecordingStopped}) == 2; }, 10s));
    std::set<std::string> titles;
    for (const auto& [pad, t] : demux(next.file).tracks) titles.insert(t.title);
    EXPECT_EQ(titles, (std::set<std::string>{"room-video", "room-audio", "patient-video", "patient-audio"}));
    expect_call_goes_on(r);
}

TEST_F(RecordingTest, AnExistingFileIsNeverOverwritten) {
    start(settings("x264enc"));
    const auto o = options("exists.mkv");
    std::ofstream(o.file) << "keep me";
    media::RecordingOptions room_only = o;
    room_only.patient.reset();
    EXPECT_FALSE(call->start_recording(room_only).has_value());
    EXPECT_FALSE(call->recording());
    std::ifstream in(o.file);
    std::string kept;
    std::getline(in, kept);
    EXPECT_EQ(kept, "keep me");
    EXPECT_FALSE(call->start_recording(options("nobody.mkv")).has_value()) << "no patient called \"patient\" in the call";
}

}  // namespace
}  // namespace consult::test
