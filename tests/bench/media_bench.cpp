// Prints, per usable software encoder, for one 1280x720@30 call to a far end:
// time from adding the peer to the far end's first decoded frame, glass-to-glass
// latency (a timestamp written into each frame before the encoder, read back after
// the far end's decoder), and the process's CPU (cores) and RSS while the call runs. The far end (decoding our 720p30 and
// sending 320x240@15) lives in the same process, so the CPU figure includes it.
// Run inside a network namespace: tests/media/run_in_netns.sh build/tests/consult_media_bench
// With --record: what recording the call (4 tracks to a Matroska file) adds to its CPU.
#include "../media/remote_peer.hpp"
#include "latency_stamp.hpp"
#include "hwconfig/probe.hpp"
#include "pipelines/call.hpp"

#include <gst/gst.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

using namespace consult;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long rss_kb() {
    std::ifstream in("/proc/self/status");
    std::string key;
    long value = 0;
    while (in >> key) {
        if (key == "VmRSS:") { in >> value; return value; }
        in.ignore(256, '\n');
    }
    return 0;
}

struct Relay : media::CallListener {
    media::Call* call = nullptr;
    test::RemotePeer* remote = nullptr;
    void local_description(const std::string&, media::SdpType type, const std::string& sdp) override {
        if (type == media::SdpType::Offer) remote->set_offer(sdp);
    }
    void local_candidate(const std::string&, unsigned mline, const std::string& c) override {
        remote->add_candidate(mline, c);
    }
    void event(const std::string&, media::MediaEvent e, const std::string& detail) override {
        if (e == media::MediaEvent::RecordingStarted || e == media::MediaEvent::RecordingStopped ||
            e == media::MediaEvent::RecordingFailed)
            last_recording_event = e, recording_detail = detail;
    }
    std::optional<media::MediaEvent> last_recording_event;
    std::string recording_detail;
};

// The far end's answer and candidates reach the call on the main loop, as from a socket.
void wire(test::RemotePeer& remote, media::Call* call) {
    remote.on_answer = [call](const std::string& sdp) {
        auto* job = new std::pair<media::Call*, std::string>(call, sdp);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::pair<media::Call*, std::string>> j(static_cast<std::pair<media::Call*, std::string>*>(p));
            (void)j->first->set_remote_description("far", media::SdpType::Answer, j->second);
            return G_SOURCE_REMOVE;
        }, job);
    };
    remote.on_candidate = [call](unsigned mline, const std::string& c) {
        auto* job = new std::tuple<media::Call*, unsigned, std::string>(call, mline, c);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::tuple<media::Call*, unsigned, std::string>> j(
                static_cast<std::tuple<media::Call*, unsigned, std::string>*>(p));
            std::get<0>(*j)->add_remote_candidate("far", std::get<1>(*j), std::get<2>(*j));
            return G_SOURCE_REMOVE;
        }, job);
    };
}

template <typename Pred>
bool spin_until(Pred done, std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (!done()) {
        if (Clock::now() > end) return false;
        g_main_context_iteration(nullptr, FALSE);
        g_usleep(1000);
    }
    return true;
}

media::CallSettings call_settings(const hw::EncoderRow& row) {
    media::CallSettings s;
    s.encoder = &row;
    s.camera = {true, "test pattern", "", std::nullopt, "bench"};
    s.microphone = {true, "test tone", "", std::nullopt, "bench"};
    s.speaker = {true, "none", "", std::nullopt, "bench"};
    s.width = 1280;
    s.height = 720;
    s.fps = 30;
    s.bitrate = {150, 2500, 1500};
    return s;
}

void run_call(const hw::EncoderRow& row, hw::Codec codec) {
    const media::CallSettings s = call_settings(row);
    Relay relay;
    test::RemotePeer remote(codec);
    relay.remote = &remote;
    auto call = media::Call::create(s, relay);
    if (!call) {
        std::printf("%-12s cannot start: %s\n", std::string(row.factory).c_str(), call.error().describe().c_str());
        return;
    }
    relay.call = call->get();
    wire(remote, relay.call);
    // Stamp every frame as it enters the encoder; read it back after the far end decodes.
    GRef<GstElement> enc = adopt(gst_bin_get_by_name(GST_BIN((*call)->pipeline()), (*call)->running_encoders().front().c_str()));
    GRef<GstPad> encsink = adopt(gst_element_get_static_pad(enc.get(), "sink"));
    gst_pad_add_probe(encsink.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad* pad, GstPadProbeInfo* info, gpointer) {
        GstCapsPtr caps(gst_pad_get_current_caps(pad));
        GstVideoInfo vi;
        if (!caps || !gst_video_info_from_caps(&vi, caps.get())) return GST_PAD_PROBE_OK;
        GstBuffer* b = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        GST_PAD_PROBE_INFO_DATA(info) = b;
        bench::stamp(b, vi, std::uint32_t(g_get_monotonic_time() / 1000));
        return GST_PAD_PROBE_OK;
    }, nullptr, nullptr);
    std::mutex mu;
    std::vector<double> latencies;
    remote.on_video_frame = [&](GstPad* pad, GstBuffer* frame) {
        GstCapsPtr caps(gst_pad_get_current_caps(pad));
        GstVideoInfo vi;
        if (!caps || !gst_video_info_from_caps(&vi, caps.get())) return;
        auto stamped = bench::read_stamp(frame, vi);
        if (!stamped) return;
        const std::uint32_t delta = std::uint32_t(g_get_monotonic_time() / 1000) - *stamped;
        if (delta < 5000) {
            std::lock_guard lock(mu);
            latencies.push_back(delta);
        }
    };
    const auto added = Clock::now();
    (void)(*call)->add_peer({"far"});
    if (!spin_until([&] { return remote.video_frames > 0; }, std::chrono::seconds(20))) {
        std::printf("%-12s no frame reached the far end within 20 s\n", std::string(row.factory).c_str());
        return;
    }
    const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - added).count();
    spin_until([] { return false; }, std::chrono::seconds(2));  // settle
    {
        std::lock_guard lock(mu);
        latencies.clear();
    }
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    const unsigned frames0 = remote.video_frames;
    spin_until([] { return false; }, std::chrono::seconds(10));
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<double> lat;
    {
        std::lock_guard lock(mu);
        lat = latencies;
    }
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double q) { return lat.empty() ? -1.0 : lat[std::min(lat.size() - 1, size_t(q * double(lat.size())))]; };
    std::printf("%-12s first frame %.0f ms | encoder-in to far-end-decoded p50 %.0f ms p95 %.0f ms (n=%zu) | CPU %.2f cores | "
                "RSS %ld kB | far end decoded %.1f fps\n",
                std::string(row.factory).c_str(), first_ms, pct(0.5), pct(0.95), lat.size(),
                (cpu_seconds() - cpu0) / wall, rss_kb(), double(remote.video_frames - frames0) / wall);
    remote.on_video_frame = nullptr;
}

}  // namespace

// The CPU (cores) the process uses over `seconds` of the main loop running.
double cpu_over(int seconds) {
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    spin_until([] { return false; }, std::chrono::seconds(seconds));
    return (cpu_seconds() - cpu0) / std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds so far of this process's threads whose name starts with `prefix` (GStreamer
// names a streaming thread after its element: the recorder's are "rec<n>_…").
double thread_cpu_seconds(const std::string& prefix) {
    double total = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(task.path() / "stat");
        std::string line;
        std::getline(in, line);
        const auto open = line.find('('), close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        if (line.compare(open + 1, prefix.size(), prefix) != 0) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string field;
        unsigned long utime = 0, stime = 0;
        for (int i = 3; i <= 13; ++i) rest >> field;   // state … cmajflt
        rest >> utime >> stime;
        total += double(utime + stime) / double(sysconf(_SC_CLK_TCK));
    }
    return total;
}

// What recording (room + far end, 4 tracks, to a file) adds to one 720p call: the CPU of
// 10 s recording against the mean of 10 s before and 10 s after (a whole-process figure,
// noisy on a shared machine), and the CPU of the recorder's own threads (exact; it leaves
// out only the hand-over on the call's threads, a few µs a buffer).
void run_recording_cost(const hw::EncoderRow& row) {
    Relay relay;
    test::RemotePeer remote(row.codec);
    relay.remote = &remote;
    auto call = media::Call::create(call_settings(row), relay);
    if (!call) return (void)std::printf("cannot start: %s\n", call.error().describe().c_str());
    relay.call = call->get();
    wire(remote, relay.call);
    (void)(*call)->add_peer({"far"});
    if (!spin_until([&] { return remote.video_frames > 0; }, std::chrono::seconds(20)))
        return (void)std::printf("no frame reached the far end within 20 s\n");
    spin_until([] { return false; }, std::chrono::seconds(3));   // settle; the far end's streams have arrived
    GCharPtr dir(g_dir_make_tmp("consult-bench-XXXXXX", nullptr));
    const std::filesystem::path file = std::filesystem::path(dir.get()) / "bench.mkv";
    const double before = cpu_over(10);
    media::RecordingOptions o{file, std::string("far"), true};
    if (auto r = (*call)->start_recording(o); !r) return (void)std::printf("cannot record: %s\n", r.error().describe().c_str());
    const double threads0 = thread_cpu_seconds("rec");
    const double recording = cpu_over(10);
    const double own = (thread_cpu_seconds("rec") - threads0) / 10;
    const auto bytes = (*call)->recorded_bytes();
    (*call)->stop_recording();
    spin_until([&] { return relay.last_recording_event && *relay.last_recording_event != media::MediaEvent::RecordingStarted; },
               std::chrono::seconds(10));
    const double after = cpu_over(10);
    const double added = recording - (before + after) / 2;
    std::printf("%-12s process CPU %.3f cores before, %.3f recording, %.3f after (%+.3f) | the recorder's threads %.3f cores "
                "(%.1f%% of one core) | %.0f kB in 10 s | %s\n",
                std::string(row.factory).c_str(), before, recording, after, added, own, own * 100, double(bytes) / 1024,
                relay.last_recording_event == media::MediaEvent::RecordingStopped ? "file finished" : relay.recording_detail.c_str());
    std::filesystem::remove_all(dir.get());
}

int main(int argc, char** argv) {
    gst_init(nullptr, nullptr);
    if (argc > 1 && std::string(argv[1]) == "--record") {
        std::printf("what recording adds to one 1280x720@30 call (CPU includes the in-process far end)\n");
        if (const auto* row = hw::find_encoder("x264enc"); row && hw::registry_has("x264enc")) run_recording_cost(*row);
        return 0;
    }
    std::printf("one 1280x720@30 call, software encoders (CPU includes the in-process far end)\n");
    for (const char* name : {"x264enc", "openh264enc", "vp8enc"}) {
        const auto* row = hw::find_encoder(name);
        if (!row || !hw::registry_has(name)) continue;
        run_call(*row, row->codec);
    }
    return 0;
}
