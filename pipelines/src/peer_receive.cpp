// A peer's receiving side: what the remote sends arrives on webrtcbin's new source pads.
// Video is counted, measured and forwarded (to the kiosk) without being decoded; audio is
// decoded, measured and mixed to the speaker.
#include "peer.hpp"

#include "main_thread.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <utility>

namespace consult::media {

void Peer::on_pad_added(GstElement*, GstPad* pad, gpointer p) {
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    static_cast<Peer*>(p)->build_receiver(pad);
}

namespace {

// A received frame's picture size without decoding it: H.264's from the parser's caps
// (read from the SPS), VP8's from a keyframe's header (RFC 6386 9.1).
std::optional<std::pair<int, int>> frame_size(GstPad* pad, GstBuffer* buf) {
    GstCapsPtr caps(gst_pad_get_current_caps(pad));
    const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
    int w = 0, h = 0;
    if (s && gst_structure_get_int(s, "width", &w) && gst_structure_get_int(s, "height", &h) && w > 0 && h > 0)
        return std::pair{w, h};
    if (!s || !gst_structure_has_name(s, "video/x-vp8") || !buf) return std::nullopt;
    std::uint8_t head[10];
    if (gst_buffer_extract(buf, 0, head, sizeof head) != sizeof head) return std::nullopt;
    const bool keyframe = (head[0] & 1) == 0;
    if (!keyframe || head[3] != 0x9d || head[4] != 0x01 || head[5] != 0x2a) return std::nullopt;
    w = (head[6] | head[7] << 8) & 0x3fff;
    h = (head[8] | head[9] << 8) & 0x3fff;
    if (w == 0 || h == 0) return std::nullopt;
    return std::pair{w, h};
}

}  // namespace

void Peer::build_receiver(GstPad* pad) {
    if (torn_down_) return;
    GstCapsPtr caps(gst_pad_get_current_caps(pad));
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    const std::string media = gst_structure_get_string(s, "media") ? gst_structure_get_string(s, "media") : "";
    const std::string enc = gst_structure_get_string(s, "encoding-name") ? gst_structure_get_string(s, "encoding-name") : "";
    GCharPtr padname(gst_pad_get_name(pad));
    const std::string tag = std::string("in_") + padname.get() + "_";
    PipelineBuilder b(GST_BIN(call_.pipeline()));
    b.add("queue", name(tag + "queue"));
    GstElement* first = b.last();
    if (media == "video") {
        // The remote's video is forwarded as it came (to the kiosk) and never shown on the
        // box: it is counted and measured here, not decoded.
        const auto codec = enc == "H264" ? hw::Codec::H264 : hw::Codec::VP8;
        b.add(codec == hw::Codec::H264 ? "rtph264depay" : "rtpvp8depay", name(tag + "depay"));
        if (codec == hw::Codec::H264) b.add("h264parse", name(tag + "parse"), {{"config-interval", "-1"}}).caps("video/x-h264,alignment=au");
        b.add("tee", name(tag + "fwd"), {{"allow-not-linked", "true"}}).add("queue", name(tag + "countqueue"));
        b.add("fakesink", name(tag + "sink"), {{"sync", "false"}, {"async", "false"}});
        if (GstElement* sink = b.last()) {
            GRef<GstPad> sinkpad = adopt(gst_element_get_static_pad(sink, "sink"));
            gst_pad_add_probe(sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad* pad, GstPadProbeInfo* info, gpointer p) {
                auto* self = static_cast<Peer*>(p);
                ++self->frames_decoded;
                if (self->width == 0)
                    if (auto size = frame_size(pad, GST_PAD_PROBE_INFO_BUFFER(info))) {
                        self->width = size->first;
                        self->height = size->second;
                    }
                return GST_PAD_PROBE_OK;
            }, this, nullptr);
        }
    } else if (media == "audio") {
        // The Opus as it came is teed off before decoding, for the recorder.
        b.add("rtpopusdepay", name(tag + "depay")).add("tee", name(tag + "afwd"), {{"allow-not-linked", "true"}})
            .add("opusdec", name(tag + "dec"))
            .caps("audio/x-raw,format=S16LE")
            .add("audioconvert", name(tag + "convert")).add("audioresample", name(tag + "resample"));
        // How loud the far end is, for stats: the peak of what was decoded.
        GRef<GstElement> dec = adopt(gst_bin_get_by_name(GST_BIN(call_.pipeline()), name(tag + "dec").c_str()));
        if (dec) {
            GRef<GstPad> decoded = adopt(gst_element_get_static_pad(dec.get(), "src"));
            gst_pad_add_probe(decoded.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad*, GstPadProbeInfo* info, gpointer p) {
                auto* self = static_cast<Peer*>(p);
                GstMapInfo map;
                GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
                if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
                    int peak = 0;
                    const auto* samples = reinterpret_cast<const gint16*>(map.data);
                    for (gsize i = 0; i < map.size / 2; ++i) peak = std::max(peak, std::abs(int(samples[i])));
                    gst_buffer_unmap(buf, &map);
                    int seen = self->audio_peak.load();
                    while (peak > seen && !self->audio_peak.compare_exchange_weak(seen, peak)) {}
                }
                ++self->audio_buffers_decoded;
                return GST_PAD_PROBE_OK;
            }, this, nullptr);
        }
        if (options_.play_audio && call_.farend_mixer_) {
            GstElement* tail = b.last();
            if (tail) {
                GRef<GstPad> mix = adopt(gst_element_request_pad_simple(call_.farend_mixer_, "sink_%u"));
                GRef<GstPad> out = adopt(gst_element_get_static_pad(tail, "src"));
                gst_pad_link(out.get(), mix.get());
            }
        } else {
            b.add("fakesink", name(tag + "sink"), {{"sync", "false"}, {"async", "false"}});
        }
    }
    if (b.error() || !first) {
        post(context_, call_alive_, [call = call_ptr_, id = options_.id, why = b.error() ? b.error()->describe() : std::string("no branch")] {
            call->listener_.event(id, MediaEvent::BranchFailed, "cannot receive: " + why);
        });
        return;
    }
    b.sync_with_parent();
    GRef<GstPad> qsink = adopt(gst_element_get_static_pad(first, "sink"));
    gst_pad_link(pad, qsink.get());
    if (media == "video")
        post(context_, call_alive_, [call = call_ptr_, id = options_.id, tee = name(tag + "fwd"),
                                            codec = enc == "H264" ? hw::Codec::H264 : hw::Codec::VP8] {
            call->on_incoming_video(id, tee, codec);
        });
    else if (media == "audio")
        post(context_, call_alive_, [call = call_ptr_, id = options_.id, tee = name(tag + "afwd")] {
            call->on_incoming_audio(id, tee);
        });
}

}  // namespace consult::media
