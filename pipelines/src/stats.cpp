// webrtcbin's get-stats reply → PeerStats, and the congestion decision it drives.
//
// The link's loss is not taken from the reply's remote-inbound-rtp entries: with
// BUNDLE, GStreamer 1.22 keeps only the last report block of each remote sender
// (so one of our two streams never shows), labels every entry with the kind of
// whichever pad it listed last, and a remote with two senders repeats each block
// in both its SRs, the second with fraction-lost 0 — whichever wins is what the
// reply shows. Instead every RTCP packet the session receives is read for the
// report blocks about our streams, and the loss is counted from their cumulative
// counters, once per new report (the remote reports every few seconds, far less
// often than the stats are polled).
#include "pipelines/call.hpp"

#include "peer.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace consult::media {

namespace {

constexpr const char* kLinkKey = "consult-link-state";

// The newest report block about each SSRC, filled on the streaming thread.
struct RtcpTap {
    std::mutex mutex;
    std::map<std::uint32_t, StreamReport> latest;
};

// A peer's loss bookkeeping, kept on its webrtcbin so it lives and dies with it.
struct LinkState {
    std::shared_ptr<RtcpTap> tap = std::make_shared<RtcpTap>();
    LossMeter meter;
    std::map<std::uint32_t, std::uint64_t> packets_sent;   // per SSRC at the last poll
    double fraction_lost = 0;                              // of the last new report
};

void on_rtcp(GObject*, GstBuffer* buffer, gpointer p) {
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
    const auto blocks = report_blocks({map.data, map.size});
    gst_buffer_unmap(buffer, &map);
    if (blocks.empty()) return;
    const gint64 now = g_get_monotonic_time();
    auto& tap = **static_cast<std::shared_ptr<RtcpTap>*>(p);
    std::lock_guard lock(tap.mutex);
    for (const ReportBlock& b : blocks) {
        auto [it, added] = tap.latest.try_emplace(b.ssrc, StreamReport{b, now, true});
        // Keep the newest; a block that goes back a little is a reordered packet, one
        // that goes back a lot is a restarted count.
        const std::int64_t advance = std::int64_t(b.ext_highest_seq) - it->second.block.ext_highest_seq;
        if (!added && (advance > 0 || advance < -32768)) it->second = {b, now, true};
    }
}

LinkState& link_state(GstElement* webrtc) {
    auto* state = static_cast<LinkState*>(g_object_get_data(G_OBJECT(webrtc), kLinkKey));
    if (!state) {
        state = new LinkState;
        g_object_set_data_full(G_OBJECT(webrtc), kLinkKey, state, [](gpointer p) { delete static_cast<LinkState*>(p); });
    }
    return *state;
}

// Listens to the RTCP of every RTP session of the peer's webrtcbin (one with
// max-bundle); sessions appear with negotiation, so this is retried each poll.
void tap_sessions(GstElement* webrtc, LinkState& state) {
    GRef<GstElement> rtpbin = adopt(gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin"));
    if (!rtpbin) return;
    for (guint id = 0; id < 4; ++id) {
        GObject* raw = nullptr;
        g_signal_emit_by_name(rtpbin.get(), "get-internal-session", id, &raw);
        GRef<GObject> session = adopt(raw);
        if (!session || g_object_get_data(session.get(), kLinkKey)) continue;
        g_signal_connect_data(session.get(), "on-receiving-rtcp", G_CALLBACK(on_rtcp),
                              new std::shared_ptr<RtcpTap>(state.tap),
                              [](gpointer p, GClosure*) { delete static_cast<std::shared_ptr<RtcpTap>*>(p); },
                              GConnectFlags(0));
        g_object_set_data(session.get(), kLinkKey, GINT_TO_POINTER(1));
    }
}

struct Sent {
    std::uint64_t packets = 0;
    bool video = false;
    unsigned clock_rate = 0;
};

struct Totals {
    PeerStats s;
    std::uint64_t bytes_sent = 0, bytes_received = 0;
    std::map<std::uint32_t, Sent> sent;   // our streams by SSRC
};

gboolean collect(GQuark, const GValue* value, gpointer p) {
    if (!GST_VALUE_HOLDS_STRUCTURE(value)) return TRUE;
    auto* t = static_cast<Totals*>(p);
    const GstStructure* st = gst_value_get_structure(value);
    GstWebRTCStatsType type;
    if (!gst_structure_get(st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) return TRUE;
    double d = 0;
    guint64 u = 0;
    guint ssrc = 0, rate = 0;
    switch (type) {
    case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
        if (gst_structure_get_double(st, "round-trip-time", &d)) t->s.rtt_ms = std::max(t->s.rtt_ms, d * 1000);
        break;
    case GST_WEBRTC_STATS_OUTBOUND_RTP:
        if (gst_structure_get_uint64(st, "bytes-sent", &u)) t->bytes_sent += u;
        if (gst_structure_get_uint(st, "ssrc", &ssrc) && gst_structure_get_uint64(st, "packets-sent", &u))
            t->sent[ssrc].packets = u;
        break;
    case GST_WEBRTC_STATS_INBOUND_RTP:
        if (gst_structure_get_uint64(st, "bytes-received", &u)) t->bytes_received += u;
        break;
    case GST_WEBRTC_STATS_CODEC: {
        // The entries' "kind" is not to be trusted with BUNDLE; what a sink pad's caps
        // say (its pinned SSRC and media) is.
        const char* codec_type = gst_structure_get_string(st, "codec-type");
        const char* mime = gst_structure_get_string(st, "mime-type");
        if (codec_type && std::string_view(codec_type) == "encode" && gst_structure_get_uint(st, "ssrc", &ssrc)) {
            Sent& s = t->sent[ssrc];
            s.video = mime && std::string_view(mime).starts_with("video/");
            if (gst_structure_get_uint(st, "clock-rate", &rate)) s.clock_rate = rate;
        }
        break;
    }
    default:
        break;
    }
    return TRUE;
}

}  // namespace

void Call::apply_stats(const std::string& id, const GstStructure* reply) {
    auto it = peers_.find(id);
    if (it == peers_.end() || !it->second->webrtc()) return;
    Peer& peer = *it->second;
    Totals t;
    gst_structure_foreach(reply, collect, &t);

    const gint64 now = g_get_monotonic_time();
    const double secs = peer.last_stats_us ? double(now - peer.last_stats_us) / 1e6 : 0;
    if (secs > 0) {
        t.s.send_kbps = unsigned(double(t.bytes_sent - std::min(t.bytes_sent, peer.last_bytes_sent)) * 8 / 1000 / secs);
        t.s.receive_kbps = unsigned(double(t.bytes_received - std::min(t.bytes_received, peer.last_bytes_received)) * 8 / 1000 / secs);
        t.s.fps = double(peer.frames_decoded - std::min<std::uint64_t>(peer.frames_decoded, peer.last_frames)) / secs;
    }
    peer.last_stats_us = now;
    peer.last_bytes_sent = t.bytes_sent;
    peer.last_bytes_received = t.bytes_received;
    peer.last_frames = peer.frames_decoded;
    t.s.frames_decoded = peer.frames_decoded;
    t.s.width = peer.width;
    t.s.height = peer.height;
    t.s.audio_buffers_decoded = peer.audio_buffers_decoded;
    t.s.audio_level = double(peer.audio_peak.exchange(0)) / 32767.0;

    // What the remote reports about each stream we send. A stream speaks for the link
    // only while we send it: not the video we stopped (audio only), nor one that sent
    // nothing since the last poll.
    LinkState& link = link_state(peer.webrtc());
    tap_sessions(peer.webrtc(), link);
    std::vector<StreamReport> reports;
    {
        std::lock_guard lock(link.tap->mutex);
        for (const auto& [ssrc, sent] : t.sent) {
            auto r = link.tap->latest.find(ssrc);
            if (r == link.tap->latest.end()) continue;
            reports.push_back(r->second);
        }
    }
    for (StreamReport& r : reports) {
        const Sent& sent = t.sent[r.block.ssrc];
        auto before = link.packets_sent.find(r.block.ssrc);
        const bool sending = before != link.packets_sent.end() && sent.packets > before->second;
        r.counted = sending && !(sent.video && !peer.video_enabled());
        t.s.packets_lost += std::uint64_t(std::max(0, r.block.cumulative_lost));
        // Jitter in the stream's own clock (the reply converts all with one pad's rate).
        if (sent.clock_rate) t.s.jitter_ms = std::max(t.s.jitter_ms, double(r.block.jitter) * 1000 / sent.clock_rate);
    }
    for (const auto& [ssrc, sent] : t.sent)
        if (sent.packets) link.packets_sent[ssrc] = sent.packets;

    const std::optional<LossSample> sample = link.meter.update(reports);
    if (sample) link.fraction_lost = sample->fraction_lost;
    t.s.fraction_lost = link.fraction_lost;
    if (peer.options().adapt_bitrate && controller_ && sample) {
        const bool was_audio_only = controller_->audio_only();
        const unsigned target = controller_->update({sample->fraction_lost, t.s.rtt_ms, sample->interval_s});
        if (target != bitrate_kbps_) set_video_bitrate(target);
        if (controller_->audio_only() != was_audio_only) {
            peer.set_video_enabled(!controller_->audio_only());
            if (!controller_->audio_only()) force_keyframe();
            listener_.event(id, controller_->audio_only() ? MediaEvent::AudioOnly : MediaEvent::VideoRestored,
                            "target " + std::to_string(target) + " kbit/s");
        }
    }
    t.s.target_kbps = bitrate_kbps_;
    listener_.stats(id, t.s);
}

}  // namespace consult::media
