// webrtcbin's get-stats reply → PeerStats, and the congestion decision it drives.
#include "pipelines/call.hpp"

#include "peer.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <map>

namespace consult::media {

namespace {

struct Report {
    double fraction_lost = 0;
};

struct Totals {
    PeerStats s;
    std::uint64_t bytes_sent = 0, bytes_received = 0;
    std::map<std::string, Report> reports;   // by kind: what the remote says of our streams
};

gboolean collect(GQuark, const GValue* value, gpointer p) {
    if (!GST_VALUE_HOLDS_STRUCTURE(value)) return TRUE;
    auto* t = static_cast<Totals*>(p);
    const GstStructure* st = gst_value_get_structure(value);
    GstWebRTCStatsType type;
    if (!gst_structure_get(st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr)) return TRUE;
    double d = 0;
    guint64 u = 0;
    gint64 i = 0;
    switch (type) {
    case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
        if (gst_structure_get_double(st, "fraction-lost", &d)) {
            const char* kind = gst_structure_get_string(st, "kind");
            Report& r = t->reports[kind ? kind : "?"];
            r.fraction_lost = std::max(r.fraction_lost, d);
        }
        if (gst_structure_get_double(st, "round-trip-time", &d)) t->s.rtt_ms = std::max(t->s.rtt_ms, d * 1000);
        if (gst_structure_get_double(st, "jitter", &d)) t->s.jitter_ms = std::max(t->s.jitter_ms, d * 1000);
        if (gst_structure_get_int64(st, "packets-lost", &i) && i > 0) t->s.packets_lost += std::uint64_t(i);
        break;
    case GST_WEBRTC_STATS_OUTBOUND_RTP:
        if (gst_structure_get_uint64(st, "bytes-sent", &u)) t->bytes_sent += u;
        break;
    case GST_WEBRTC_STATS_INBOUND_RTP:
        if (gst_structure_get_uint64(st, "bytes-received", &u)) t->bytes_received += u;
        break;
    default:
        break;
    }
    return TRUE;
}

}  // namespace

void Call::apply_stats(const std::string& id, const GstStructure* reply) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
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

    // A stream we stopped sending (audio only) keeps its last, stale report in the
    // stats: then only the audio's reports speak for the link.
    bool have_loss = false;
    for (const auto& [kind, r] : t.reports) {
        if (!peer.video_enabled() && kind == "video") continue;
        t.s.fraction_lost = std::max(t.s.fraction_lost, r.fraction_lost);
        have_loss = true;
    }
    if (peer.options().adapt_bitrate && controller_ && have_loss) {
        const bool was_audio_only = controller_->audio_only();
        const unsigned target = controller_->update({t.s.fraction_lost, t.s.rtt_ms});
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
