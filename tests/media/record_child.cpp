// consult_record_child: runs a call with a far end as "patient", records it to argv[1]
// and keeps going until killed (record_test.cpp kills it with SIGKILL mid-recording).
// Prints "recording <monotonic µs>" when the recording starts and "started" once
// RecordingStarted arrives. Gives up after two minutes so it never outlives a test run.
// With --until-failed (the file on a tiny filesystem): prints "failed: <detail>" on
// RecordingFailed, then "call goes on" and exits 0 if both directions still carry video.
#include "remote_peer.hpp"

#include "hwconfig/probe.hpp"
#include "pipelines/call.hpp"

#include <gst/gst.h>

#include <cstdio>
#include <memory>
#include <string>
#include <tuple>

namespace {

using namespace consult;

struct Relay : media::CallListener {
    media::Call* call = nullptr;
    test::RemotePeer* remote = nullptr;
    media::PeerStats stats_seen;
    bool started = false;
    std::string failed;
    void local_description(const std::string&, media::SdpType type, const std::string& sdp) override {
        if (type == media::SdpType::Offer) remote->set_offer(sdp);
    }
    void local_candidate(const std::string&, unsigned mline, const std::string& c) override { remote->add_candidate(mline, c); }
    void stats(const std::string&, const media::PeerStats& s) override { stats_seen = s; }
    void event(const std::string&, media::MediaEvent e, const std::string& detail) override {
        if (e == media::MediaEvent::RecordingStarted) started = true;
        if (e == media::MediaEvent::RecordingFailed) failed = detail;
        std::fprintf(stderr, "event %s %s\n", media::event_name(e), detail.c_str());
    }
};

// Answers and candidates reach the call on the main loop, as from a socket.
void wire(test::RemotePeer& remote, media::Call* call) {
    remote.on_answer = [call](const std::string& sdp) {
        auto* job = new std::pair<media::Call*, std::string>(call, sdp);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::pair<media::Call*, std::string>> j(static_cast<std::pair<media::Call*, std::string>*>(p));
            (void)j->first->set_remote_description("patient", media::SdpType::Answer, j->second);
            return G_SOURCE_REMOVE;
        }, job);
    };
    remote.on_candidate = [call](unsigned mline, const std::string& c) {
        auto* job = new std::tuple<media::Call*, unsigned, std::string>(call, mline, c);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::tuple<media::Call*, unsigned, std::string>> j(static_cast<std::tuple<media::Call*, unsigned, std::string>*>(p));
            std::get<0>(*j)->add_remote_candidate("patient", std::get<1>(*j), std::get<2>(*j));
            return G_SOURCE_REMOVE;
        }, job);
    };
}

template <typename Pred>
bool spin_until(Pred done, gint64 seconds) {
    const gint64 end = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
    while (!done()) {
        if (g_get_monotonic_time() > end) return false;
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(2000);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    gst_init(nullptr, nullptr);
    media::CallSettings s;
    s.encoder = hw::find_encoder("x264enc");
    s.camera = {true, "test pattern", "", std::nullopt, "test"};
    s.microphone = {true, "test tone", "", std::nullopt, "test"};
    s.speaker = {true, "none", "", std::nullopt, "test"};
    s.width = 640;
    s.height = 360;
    s.stats_interval_ms = 500;
    Relay relay;
    test::RemotePeer remote(hw::Codec::H264);
    relay.remote = &remote;
    auto call = media::Call::create(s, relay);
    if (!call) return 3;
    wire(remote, call->get());
    if (!(*call)->add_peer({"patient"})) return 4;
    if (!spin_until([&] { return relay.stats_seen.frames_decoded > 5 && relay.stats_seen.audio_buffers_decoded > 5; }, 30))
        return 5;
    media::RecordingOptions o;
    o.file = argv[1];
    o.patient = "patient";
    std::printf("recording %lld\n", (long long)g_get_monotonic_time());
    std::fflush(stdout);
    if (!(*call)->start_recording(o)) return 6;
    if (!spin_until([&] { return relay.started || !relay.failed.empty(); }, 20)) return 7;
    std::printf("started\n");
    std::fflush(stdout);
    if (argc < 3 || std::string(argv[2]) != "--until-failed") {
        spin_until([] { return false; }, 120);
        return 0;
    }
    if (!spin_until([&] { return !relay.failed.empty(); }, 30)) return 8;
    std::printf("failed: %s\n", relay.failed.c_str());
    const unsigned sent = remote.video_frames;
    const auto received = relay.stats_seen.frames_decoded;
    if (!spin_until([&] { return remote.video_frames > sent + 30 && relay.stats_seen.frames_decoded > received + 15; }, 10))
        return 9;
    std::printf("call goes on\n");
    return 0;
}
