// Prints, per usable software encoder, for one 1280x720@30 call to a far end:
// time from adding the peer to the far end's first decoded frame, glass-to-glass
// latency (a timestamp written into each frame before the encoder, read back after
// the far end's decoder), and the process's CPU (cores) and RSS while the call runs. The far end (decoding our 720p30 and
// sending 320x240@15) lives in the same process, so the CPU figure includes it.
// Run inside a network namespace: tests/media/run_in_netns.sh build/tests/consult_media_bench
#include "../media/remote_peer.hpp"
#include "latency_stamp.hpp"
#include "hwconfig/probe.hpp"
#include "pipelines/call.hpp"

#include <gst/gst.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
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
};

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

void run_call(const hw::EncoderRow& row, hw::Codec codec) {
    media::CallSettings s;
    s.encoder = &row;
    s.camera = {true, "test pattern", "", std::nullopt, "bench"};
    s.microphone = {true, "test tone", "", std::nullopt, "bench"};
    s.speaker = {true, "none", "", std::nullopt, "bench"};
    s.width = 1280;
    s.height = 720;
    s.fps = 30;
    s.bitrate = {150, 2500, 1500};
    Relay relay;
    test::RemotePeer remote(codec);
    relay.remote = &remote;
    auto call = media::Call::create(s, relay);
    if (!call) {
        std::printf("%-12s cannot start: %s\n", std::string(row.factory).c_str(), call.error().describe().c_str());
        return;
    }
    relay.call = call->get();
    remote.on_answer = [&](const std::string& sdp) {
        auto* job = new std::pair<media::Call*, std::string>(relay.call, sdp);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::pair<media::Call*, std::string>> j(static_cast<std::pair<media::Call*, std::string>*>(p));
            (void)j->first->set_remote_description("far", media::SdpType::Answer, j->second);
            return G_SOURCE_REMOVE;
        }, job);
    };
    remote.on_candidate = [&](unsigned mline, const std::string& c) {
        auto* job = new std::tuple<media::Call*, unsigned, std::string>(relay.call, mline, c);
        g_idle_add([](gpointer p) -> gboolean {
            std::unique_ptr<std::tuple<media::Call*, unsigned, std::string>> j(
                static_cast<std::tuple<media::Call*, unsigned, std::string>*>(p));
            std::get<0>(*j)->add_remote_candidate("far", std::get<1>(*j), std::get<2>(*j));
            return G_SOURCE_REMOVE;
        }, job);
    };
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

int main() {
    gst_init(nullptr, nullptr);
    std::printf("one 1280x720@30 call, software encoders (CPU includes the in-process far end)\n");
    for (const char* name : {"x264enc", "openh264enc", "vp8enc"}) {
        const auto* row = hw::find_encoder(name);
        if (!row || !hw::registry_has(name)) continue;
        run_call(*row, row->codec);
    }
    return 0;
}
