#include "remote_peer.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

namespace consult::test {

namespace {

std::string sender(hw::Codec codec) {
    const std::string video = codec == hw::Codec::H264
        ? "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=600 ! video/x-h264,profile=constrained-baseline "
          "! h264parse ! rtph264pay config-interval=-1 pt=96 ! application/x-rtp,media=video,encoding-name=H264,payload=96"
        : "vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 target-bitrate=600000 ! rtpvp8pay pt=97 "
          "! application/x-rtp,media=video,encoding-name=VP8,payload=97";
    return "webrtcbin name=remote bundle-policy=max-bundle latency=100 "
           "videotestsrc is-live=true pattern=ball ! capsfilter name=vsize caps=video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert ! "
           "queue ! " + video + " ! queue name=vout "
           "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! queue ! opusenc ! rtpopuspay pt=111 ! "
           "application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! queue name=aout ";
}

GstPadProbeReturn count(GstPad*, GstPadProbeInfo*, gpointer counter) {
    ++*static_cast<std::atomic<unsigned>*>(counter);
    return GST_PAD_PROBE_OK;
}

}  // namespace

RemotePeer::RemotePeer(hw::Codec codec, const std::string& local_address) {
    GErrorOut err;
    pipeline_ = adopt(gst_parse_launch(sender(codec).c_str(), err.out()));
    webrtc_ = gst_bin_get_by_name(GST_BIN(pipeline_.get()), "remote");
    GRef<GstElement> owned = adopt(webrtc_);  // the pipeline keeps it
    g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(+[](GstElement*, guint mline, gchar* c, gpointer p) {
        auto* self = static_cast<RemotePeer*>(p);
        if (self->on_candidate) self->on_candidate(mline, c);
    }), this);
    g_signal_connect(webrtc_, "pad-added", G_CALLBACK(on_pad_added), this);
    if (!local_address.empty()) {
        GstObject* raw = nullptr;
        g_object_get(webrtc_, "ice-agent", &raw, nullptr);
        GRef<GstObject> agent = adopt(raw);
        gboolean ok = FALSE;
        g_signal_emit_by_name(agent.get(), "add-local-ip-address", local_address.c_str(), &ok);
    }
    // Link audio then video (the appliance's order), each with fixed codec preferences,
    // so the answer matches what was offered whatever our own encoder's stream looks like.
    for (const char* out : {"aout", "vout"}) {
        const bool video = std::string(out) == "vout";
        GRef<GstElement> tail = adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), out));
        GRef<GstPad> src = adopt(gst_element_get_static_pad(tail.get(), "src"));
        GRef<GstPad> sink = adopt(gst_element_request_pad_simple(webrtc_, "sink_%u"));
        gst_pad_link(src.get(), sink.get());
        GObject* raw = nullptr;
        g_object_get(sink.get(), "transceiver", &raw, nullptr);
        GRef<GObject> t = adopt(raw);
        GstCapsPtr prefs(gst_caps_from_string(
            video ? (codec == hw::Codec::H264
                         ? "application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000,packetization-mode=(string)1"
                         : "application/x-rtp,media=video,encoding-name=VP8,payload=97,clock-rate=90000")
                  : "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"));
        if (t) g_object_set(t.get(), "codec-preferences", prefs.get(), nullptr);
    }
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

RemotePeer::~RemotePeer() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }

void RemotePeer::set_offer(const std::string& text) {
    GstSDPMessage* sdp = nullptr;
    gst_sdp_message_new_from_text(text.c_str(), &sdp);
    auto* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    GstPromise* done = gst_promise_new();
    g_signal_emit_by_name(webrtc_, "set-remote-description", offer, done);
    gst_promise_wait(done);
    gst_promise_unref(done);
    gst_webrtc_session_description_free(offer);
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* promise, gpointer p) {
            auto* self = static_cast<RemotePeer*>(p);
            GstWebRTCSessionDescription* answer = nullptr;
            gst_structure_get(gst_promise_get_reply(promise), "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
            gst_promise_unref(promise);
            if (!answer) return;
            g_signal_emit_by_name(self->webrtc_, "set-local-description", answer, nullptr);
            GCharPtr text(gst_sdp_message_as_text(answer->sdp));
            gst_webrtc_session_description_free(answer);
            if (self->on_answer) self->on_answer(text.get());
        },
        this, nullptr);
    g_signal_emit_by_name(webrtc_, "create-answer", nullptr, promise);
}

void RemotePeer::add_candidate(unsigned mline, const std::string& candidate) {
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.c_str());
}

void RemotePeer::send_size(int width, int height) {
    GRef<GstElement> size = adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "vsize"));
    GstCapsPtr caps(gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, width, "height", G_TYPE_INT, height,
                                        "framerate", GST_TYPE_FRACTION, 15, 1, nullptr));
    g_object_set(size.get(), "caps", caps.get(), nullptr);
}

void RemotePeer::request_keyframe() {
    if (!video_depay_) return;
    GRef<GstPad> src = adopt(gst_element_get_static_pad(video_depay_, "src"));
    gst_pad_send_event(src.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

void RemotePeer::on_pad_added(GstElement*, GstPad* pad, gpointer p) {
    auto* self = static_cast<RemotePeer*>(p);
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstCapsPtr caps(gst_pad_get_current_caps(pad));
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    const std::string media = gst_structure_get_string(s, "media");
    const std::string enc = gst_structure_get_string(s, "encoding-name");
    std::string desc = media == "video"
        ? (enc == "H264" ? "queue ! rtph264depay name=vdepay ! h264parse ! avdec_h264 ! fakesink name=vsink sync=false async=false"
                         : "queue ! rtpvp8depay name=vdepay ! vp8dec ! fakesink name=vsink sync=false async=false")
        : "queue ! rtpopusdepay ! opusdec ! fakesink name=asink sync=false async=false";
    GErrorOut err;
    GstElement* branch = gst_parse_bin_from_description(desc.c_str(), TRUE, err.out());
    gst_bin_add(GST_BIN(self->pipeline_.get()), branch);
    gst_element_set_state(branch, GST_STATE_PLAYING);
    GRef<GstPad> sink = adopt(gst_element_get_static_pad(branch, "sink"));
    gst_pad_link(pad, sink.get());
    GRef<GstElement> fakesink = adopt(gst_bin_get_by_name(GST_BIN(branch), media == "video" ? "vsink" : "asink"));
    GRef<GstPad> fsink = adopt(gst_element_get_static_pad(fakesink.get(), "sink"));
    gst_pad_add_probe(fsink.get(), GST_PAD_PROBE_TYPE_BUFFER, count,
                      media == "video" ? &self->video_frames : &self->audio_buffers, nullptr);
    if (media == "video") {
        ++self->video_streams;
        gst_pad_add_probe(fsink.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad* pad, GstPadProbeInfo* info, gpointer p) {
            auto* self = static_cast<RemotePeer*>(p);
            if (self->on_video_frame) self->on_video_frame(pad, GST_PAD_PROBE_INFO_BUFFER(info));
            GstCapsPtr c(gst_pad_get_current_caps(pad));
            int w = 0;
            if (c && gst_structure_get_int(gst_caps_get_structure(c.get(), 0), "width", &w)) {
                if (self->smallest_width == 0 || w < self->smallest_width) self->smallest_width = w;
                self->last_width = w;
            }
            return GST_PAD_PROBE_OK;
        }, self, nullptr);
        GRef<GstElement> depay = adopt(gst_bin_get_by_name(GST_BIN(branch), "vdepay"));
        self->video_depay_ = depay.get();
        GRef<GstPad> dsrc = adopt(gst_element_get_static_pad(depay.get(), "src"));
        gst_pad_add_probe(dsrc.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad*, GstPadProbeInfo* info, gpointer p) {
            if (!GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT))
                ++*static_cast<std::atomic<unsigned>*>(p);
            return GST_PAD_PROBE_OK;
        }, &self->keyframes_received, nullptr);
    }
}

}  // namespace consult::test
