#include "peer.hpp"

#include "pipelines/sdp_check.hpp"

#include "encoder_branch.hpp"
#include "keyframe_gate.hpp"
#include "main_thread.hpp"
#include "rtp_caps.hpp"

#include <gst/video/video.h>

#include <algorithm>
#include <optional>
#include <utility>

#define GST_USE_UNSTABLE_API
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

namespace consult::media {

namespace {

// webrtcbin's session descriptions, owned like the GStreamer types in hwconfig/gref.hpp
// (kept here: the WebRTC headers are this library's alone).
struct SessionDescriptionDeleter {
    void operator()(GstWebRTCSessionDescription* d) const { gst_webrtc_session_description_free(d); }
};
using SessionDescriptionPtr = std::unique_ptr<GstWebRTCSessionDescription, SessionDescriptionDeleter>;

}  // namespace



Peer::Peer(Call& call, PeerOptions options)
    : call_(call), options_(std::move(options)), call_ptr_(&call), context_(g_main_context_ref(call.context_)),
      call_alive_(call.alive_) {}

Peer::~Peer() { g_main_context_unref(context_); }

expected<void, BuildError> Peer::build() {
    GstBin* bin = GST_BIN(call_.pipeline());
    PipelineBuilder b(bin);
    b.add("webrtcbin", name("webrtc"), {{"bundle-policy", "max-bundle"}});
    if (b.error()) return unexpected(*b.error());
    webrtc_ = b.last();
    g_object_set(webrtc_, "latency", guint(call_.settings().latency_ms), nullptr);
    if (!call_.settings().stun_server.empty())
        g_object_set(webrtc_, "stun-server", call_.settings().stun_server.c_str(), nullptr);
    for (const auto& turn : call_.settings().turn_servers) {
        gboolean ok = FALSE;
        g_signal_emit_by_name(webrtc_, "add-turn-server", turn.c_str(), &ok);
    }
    g_signal_connect(webrtc_, "on-negotiation-needed", G_CALLBACK(on_negotiation_needed), this);
    g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(on_ice_candidate), this);
    g_signal_connect(webrtc_, "pad-added", G_CALLBACK(on_pad_added), this);
    g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(on_connection_state), this);
    {
        GstObject* raw = nullptr;
        g_object_get(webrtc_, "ice-agent", &raw, nullptr);
        GRef<GstObject> agent = adopt(raw);
        // Media is UDP: TCP candidates only multiply the pairs to check (TURN over TLS
        // covers networks that block UDP).
        g_object_set(agent.get(), "ice-tcp", FALSE, nullptr);
        for (const auto& addr : options_.local_addresses) {
            gboolean ok = FALSE;
            g_signal_emit_by_name(agent.get(), "add-local-ip-address", addr.c_str(), &ok);
        }
    }
    gst_element_sync_state_with_parent(webrtc_);
    // Audio first: the first section carries the bundle's transport, and audio is the one
    // every browser takes; a browser that turns video down leaves the transport in place.
    if (options_.send_audio)
        if (auto r = link_audio(call_.audio_tee_); !r) return r;
    if (options_.send_video)
        if (auto r = add_video_sender(false); !r) return r;
    return {};
}

expected<void, BuildError> Peer::add_video_sender(bool content) {
    if (video_refused_) return {};   // the browser said no to video; a second camera is video too
    GRef<GstPad> sink = adopt(gst_element_request_pad_simple(webrtc_, "sink_%u"));
    if (!sink) return unexpected(BuildError{name("webrtc"), "cannot add a video stream"});
    GObject* raw = nullptr;
    g_object_get(sink.get(), "transceiver", &raw, nullptr);
    GRef<GObject> transceiver = adopt(raw);
    // The offer comes from these preferences alone: nothing is linked before the answer.
    // The stream's SSRC is fixed now so that the offer announces it (a=ssrc): two video
    // sections in one BUNDLE share payload types, and a browser tells them apart by SSRC.
    const guint ssrc = g_random_int();
    std::string prefs;
    for (hw::Codec c : call_.video_codecs())
        prefs += (prefs.empty() ? "" : ";") + video_caps(c, content ? VideoRole::Content : VideoRole::Room) +
                 ",ssrc=(uint)" + std::to_string(ssrc);
    GstCapsPtr caps(gst_caps_from_string(prefs.c_str()));
    if (transceiver) g_object_set(transceiver.get(), "codec-preferences", caps.get(), nullptr);
    senders_.push_back({content, unsigned(streams_.size()), ssrc, sink.get(), std::nullopt, nullptr});
    streams_.push_back(content ? "content" : "room");
    offer_new_streams();
    return {};
}

void Peer::attach_video(const AnswerShape& answer) {
    for (VideoSender& s : senders_) {
        if (s.codec || s.mline >= answer.sections.size() || !answer.sections[s.mline].accepted) continue;
        const VideoRole role = s.content ? VideoRole::Content : VideoRole::Room;
        auto codec = chosen_codec(answer.sections[s.mline], role);
        if (!codec) continue;
        EncoderBranch* branch = call_.branch_for(s.content ? call_.content_ : call_.room_, *codec);
        if (!branch) {
            post(context_, call_alive_, [call = call_ptr_, id = options_.id, c = *codec] {
                call->listener_.event(id, MediaEvent::BranchFailed, "no " + std::string(hw::codec_name(c)) + " encoder");
            });
            continue;
        }
        const auto& row = branch->row();
        const std::string v = std::string(s.content ? "c" : "v") + std::to_string(s.mline) + "_";
        PipelineBuilder b(GST_BIN(call_.pipeline()), branch->tee());
        b.add("queue", name(v + "queue"),
              {{"leaky", "downstream"}, {"max-size-buffers", "0"}, {"max-size-bytes", "0"}, {"max-size-time", "500000000"}});
        b.add("valve", name(v + "valve"), {{"drop", video_enabled_ ? "false" : "true"}});
        GstElement* valve = b.last();
        std::vector<hw::Property> props = row.payloader_props;
        const std::string pt = video_pt(*codec, role);
        props.push_back({"pt", pt});
        const std::string ssrc = std::to_string(s.ssrc);   // Property holds views: it must outlive `props`
        props.push_back({"ssrc", ssrc});
        b.add(row.payloader, name(v + "pay"), props);
        b.caps(video_caps(*codec, role) + ",ssrc=(uint)" + ssrc);
        if (b.error()) {
            remove_branch(GST_BIN(call_.pipeline()), name(v));
            post(context_, call_alive_, [call = call_ptr_, id = options_.id, why = b.error()->describe()] {
                call->listener_.event(id, MediaEvent::BranchFailed, why);
            });
            continue;
        }
        GRef<GstPad> src = adopt(gst_element_get_static_pad(b.last(), "src"));
        if (const GstPadLinkReturn linked = gst_pad_link(src.get(), s.sink); linked != GST_PAD_LINK_OK) {
            remove_branch(GST_BIN(call_.pipeline()), name(v));
            post(context_, call_alive_, [call = call_ptr_, id = options_.id, why = std::string(gst_pad_link_get_name(linked))] {
                call->listener_.event(id, MediaEvent::BranchFailed, "the video stream could not join the connection: " + why);
            });
            continue;
        }
        b.sync_with_parent();
        s.codec = codec;
        s.valve = valve;
        ++branch->users;
        branch->force_keyframe();   // the new stream starts with a picture
    }
    // The answer may have left an encoder with no screen (a VP8-only browser first in
    // the call): it stops.
    call_.prune_branches(call_.room_);
    call_.prune_branches(call_.content_);
}

expected<void, BuildError> Peer::link_audio(GstElement* tee) {
    PipelineBuilder b(GST_BIN(call_.pipeline()));
    b.add("queue", name("aqueue"),
          {{"leaky", "downstream"}, {"max-size-buffers", "0"}, {"max-size-bytes", "0"}, {"max-size-time", "500000000"}});
    GstElement* queue = b.last();
    b.add("rtpopuspay", name("apay"), {{"pt", kAudioPt}});
    const std::string caps = b.last() ? with_ssrc(b.last(), audio_caps()) : audio_caps();
    b.caps(caps);
    if (b.error()) return unexpected(*b.error());
    GRef<GstPad> sink = adopt(gst_element_request_pad_simple(webrtc_, "sink_%u"));
    GRef<GstPad> src = adopt(gst_element_get_static_pad(b.last(), "src"));
    if (!sink || gst_pad_link(src.get(), sink.get()) != GST_PAD_LINK_OK)
        return unexpected(BuildError{name("webrtc"), "cannot link the audio sender"});
    streams_.push_back("room-audio");
    // Fixed codec preferences make the offer independent of whether media has flowed yet.
    GObject* raw = nullptr;
    g_object_get(sink.get(), "transceiver", &raw, nullptr);
    GRef<GObject> transceiver = adopt(raw);
    GstCapsPtr prefs(gst_caps_from_string(caps.c_str()));
    if (transceiver) g_object_set(transceiver.get(), "codec-preferences", prefs.get(), nullptr);
    b.sync_with_parent();
    GRef<GstPad> teepad = adopt(gst_element_request_pad_simple(tee, "src_%u"));
    GRef<GstPad> qsink = adopt(gst_element_get_static_pad(queue, "sink"));
    if (gst_pad_link(teepad.get(), qsink.get()) != GST_PAD_LINK_OK)
        return unexpected(BuildError{name("aqueue"), "cannot link to the call's audio"});
    return {};
}

void Peer::teardown(std::shared_ptr<void> keep_alive) {
    // No more callbacks start; those already running on webrtcbin's threads find this
    // Peer alive (`keep_alive` holds it) until its elements have stopped.
    torn_down_ = true;
    if (webrtc_) g_signal_handlers_disconnect_by_data(webrtc_, this);
    // webrtcbin and its branch leave the pipeline now and stop on a worker thread.
    remove_branch(GST_BIN(call_.pipeline()), "p_" + options_.id + "_", std::move(keep_alive));
    for (VideoSender& v : senders_)
        if (v.codec) call_.release_branch(v.content ? call_.content_ : call_.room_, *v.codec);
    senders_.clear();
    webrtc_ = nullptr;
}

void Peer::set_video_enabled(bool on) {
    video_enabled_ = on;
    for (VideoSender& v : senders_)
        if (v.valve) g_object_set(v.valve, "drop", !on, nullptr);
}

// webrtcbin also asks after an answer that turned a section down (its direction now
// differs from ours); only a stream the remote has not been offered yet needs an offer.
void Peer::on_negotiation_needed(GstElement*, gpointer p) { static_cast<Peer*>(p)->offer_new_streams(); }

// on-negotiation-needed alone is not enough: webrtcbin emits it only when its own flag
// turns on, and that flag stays on after an answer that turned a section down. Safe
// from any thread: it only posts to the main loop.
void Peer::offer_new_streams() {
    post(context_, call_alive_, [call = call_ptr_, id = options_.id] {
        if (auto it = call->peers_.find(id); it != call->peers_.end() && it->second->needs_new_offer())
            it->second->negotiate();
    });
}

bool Peer::needs_new_offer() const {
    GArray* transceivers = nullptr;
    g_signal_emit_by_name(webrtc_, "get-transceivers", &transceivers);
    const guint count = transceivers ? transceivers->len : 0;
    if (transceivers) g_array_unref(transceivers);
    GstWebRTCSessionDescription* raw = nullptr;
    g_object_get(webrtc_, "local-description", &raw, nullptr);
    SessionDescriptionPtr local(raw);
    const guint mlines = local ? gst_sdp_message_medias_len(local->sdp) : 0;
    return count > mlines;
}

void Peer::negotiate() {
    if (!webrtc_) return;
    GstWebRTCSignalingState state;
    g_object_get(webrtc_, "signaling-state", &state, nullptr);
    if (offer_pending_ || state != GST_WEBRTC_SIGNALING_STATE_STABLE) {
        renegotiate_ = true;
        return;
    }
    offer_pending_ = true;
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* promise, gpointer p) { static_cast<Peer*>(p)->on_description_created(promise, SdpType::Offer); },
        this, nullptr);
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
}

// create-offer / create-answer replied: make it ours and hand it to signalling.
void Peer::on_description_created(GstPromise* replied, SdpType type) {
    GstPromisePtr promise(replied);   // this callback holds the promise's last reference
    GstWebRTCSessionDescription* raw = nullptr;
    if (gst_promise_wait(promise.get()) == GST_PROMISE_RESULT_REPLIED && gst_promise_get_reply(promise.get()))
        gst_structure_get(gst_promise_get_reply(promise.get()), type == SdpType::Offer ? "offer" : "answer",
                          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw, nullptr);
    SessionDescriptionPtr desc(raw);
    if (!desc) return;
    g_signal_emit_by_name(webrtc_, "set-local-description", desc.get(), nullptr);
    // What the remote is sent: the same description, less H.264 parameter sets, which
    // travel in band (config-interval=-1). Once the encoder has run, webrtcbin lists them
    // in a re-offer's fmtp, which a far end may take as a changed codec and refuse.
    GstSDPMessage* copy = nullptr;
    gst_sdp_message_copy(desc->sdp, &copy);
    GstSDPMessagePtr sent(copy);
    desc.reset();
    without_parameter_sets(sent.get());
    GCharPtr text(gst_sdp_message_as_text(sent.get()));
    std::string sdp(text.get());
    post(context_, call_alive_, [call = call_ptr_, id = options_.id, type, sdp = std::move(sdp)] {
        if (type == SdpType::Offer)
            if (auto it = call->peers_.find(id); it != call->peers_.end()) it->second->last_offer_ = sdp;
        call->listener_.local_description(id, type, sdp);
    });
}

void Peer::on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer p) {
    auto* self = static_cast<Peer*>(p);
    post(self->context_, self->call_alive_,
         [call = self->call_ptr_, id = self->options_.id, mline, c = std::string(candidate)] {
             call->listener_.local_candidate(id, mline, c);
         });
}

void Peer::on_connection_state(GObject* webrtc, GParamSpec*, gpointer p) {
    auto* self = static_cast<Peer*>(p);
    GstWebRTCPeerConnectionState state;
    g_object_get(webrtc, "connection-state", &state, nullptr);
    GEnumClass* cls = static_cast<GEnumClass*>(g_type_class_ref(GST_TYPE_WEBRTC_PEER_CONNECTION_STATE));
    GEnumValue* v = g_enum_get_value(cls, int(state));
    std::string name = v ? v->value_nick : "unknown";
    g_type_class_unref(cls);
    post(self->context_, self->call_alive_, [call = self->call_ptr_, id = self->options_.id, name] {
        call->listener_.peer_state(id, name);
        if (name == "connected") {
            call->force_keyframe();  // a new viewer gets a picture at once
            call->listener_.event(id, MediaEvent::PeerConnected, "");
        } else if (name == "failed") {
            call->listener_.event(id, MediaEvent::PeerFailed, "ICE or DTLS failed");
        }
    });
}

expected<void, std::string> Peer::set_remote_description(SdpType type, const std::string& text) {
    std::string given = text;
    if (type == SdpType::Answer) {
        if (!offer_pending_ || last_offer_.empty()) return unexpected("no offer is waiting for an answer");
        auto shape = check_answer(last_offer_, text);
        if (!shape) return unexpected(shape.error());
        // A browser that takes nothing offered is an outcome, not an error: the page and
        // the doctor are told why, and webrtcbin never sees an answer it would refuse.
        if (std::none_of(shape->sections.begin(), shape->sections.end(), [](const AnswerSection& s) { return s.accepted; })) {
            offer_pending_ = false;
            post(context_, call_alive_, [call = call_ptr_, id = options_.id] {
                call->listener_.event(id, MediaEvent::NothingUsable,
                                      "this browser cannot take part in the video call: it takes neither the sound (Opus) "
                                      "nor the picture (H.264, VP8); try a current Chrome, Edge, Firefox or Safari");
            });
            return {};
        }
        const bool video_refused = std::any_of(shape->sections.begin(), shape->sections.end(),
                                               [](const AnswerSection& s) { return s.media == "video" && !s.accepted; });
        video_refused_ = video_refused_ || video_refused;
        if (video_refused)
            post(context_, call_alive_, [call = call_ptr_, id = options_.id] {
                call->listener_.event(id, MediaEvent::VideoRefused, "the browser turned video down; the call goes on with audio");
            });
        given = normalised_answer(text, *shape);
        // The rewrite goes through GStreamer's SDP parser, which reads some malformed
        // lines differently from the check: what webrtcbin gets must pass the check too.
        if (shape->rejects_any())
            if (auto again = check_answer(last_offer_, given); !again) return unexpected(again.error());
        accepted_.clear();
        for (const AnswerSection& section : shape->sections) accepted_.push_back(section.accepted);
        answer_ = *std::move(shape);
        offer_pending_ = false;   // this answer is the one; a second is refused
    }
    GstSDPMessage* raw = nullptr;
    if (gst_sdp_message_new_from_text(given.c_str(), &raw) != GST_SDP_OK || !raw)
        return unexpected("the session description does not parse");
    SessionDescriptionPtr desc(gst_webrtc_session_description_new(
        type == SdpType::Answer ? GST_WEBRTC_SDP_TYPE_ANSWER : GST_WEBRTC_SDP_TYPE_OFFER, raw));
    // webrtcbin applies it on its own thread; its verdict comes back to the main loop
    // (never waited for here: the loop must not block on a streaming thread).
    struct Pending {
        GMainContext* context;
        std::weak_ptr<bool> alive;
        Call* call;
        std::string id;
        SdpType type;
    };
    GstPromisePtr promise(gst_promise_new_with_change_func(
        [](GstPromise* promise, gpointer p) {
            auto* pending = static_cast<Pending*>(p);
            std::string error;
            if (gst_promise_get_reply(promise)) {
                GError* err = nullptr;
                if (gst_structure_get(gst_promise_get_reply(promise), "error", G_TYPE_ERROR, &err, nullptr) && err) {
                    error = err->message;
                    g_error_free(err);
                }
            }
            post(pending->context, pending->alive, [call = pending->call, id = pending->id, type = pending->type, error] {
                auto it = call->peers_.find(id);
                if (it == call->peers_.end()) return;
                if (!error.empty()) call->listener_.event(id, MediaEvent::RemoteDescriptionRefused, error);
                else it->second->remote_description_applied(type);
            });
        },
        new Pending{g_main_context_ref(context_), call_alive_, call_ptr_, options_.id, type}, [](gpointer p) {
            auto* pending = static_cast<Pending*>(p);
            g_main_context_unref(pending->context);
            delete pending;
        }));
    g_signal_emit_by_name(webrtc_, "set-remote-description", desc.get(), promise.get());
    return {};
}

void Peer::remote_description_applied(SdpType type) {
    if (type == SdpType::Answer) {
        if (answer_) attach_video(*std::exchange(answer_, std::nullopt));
        if (std::exchange(renegotiate_, false) && needs_new_offer()) negotiate();
        return;
    }
    // The remote renegotiates: answer it.
    GstPromise* p = gst_promise_new_with_change_func(
        [](GstPromise* promise, gpointer p) { static_cast<Peer*>(p)->on_description_created(promise, SdpType::Answer); },
        this, nullptr);
    g_signal_emit_by_name(webrtc_, "create-answer", nullptr, p);
}

void Peer::add_remote_candidate(unsigned mline, const std::string& candidate) {
    // One transport carries every bundled section: a candidate a browser files under a
    // section it turned down belongs to the first section it kept.
    if (mline < accepted_.size() && !accepted_[mline]) {
        auto kept = std::find(accepted_.begin(), accepted_.end(), true);
        if (kept == accepted_.end()) return;
        mline = unsigned(kept - accepted_.begin());
    }
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.c_str());
}

expected<void, BuildError> Peer::link_forward(GstElement* tee, hw::Codec codec) {
    if (forwarding_) return {};
    PipelineBuilder b(GST_BIN(call_.pipeline()));
    b.add("queue", name("fwd_queue"),
          {{"leaky", "downstream"}, {"max-size-buffers", "0"}, {"max-size-bytes", "0"}, {"max-size-time", "500000000"}});
    GstElement* queue = b.last();
    const std::string caps = std::string("application/x-rtp,media=video,encoding-name=") +
                             std::string(hw::codec_name(codec)) + ",payload=" + video_pt(codec, VideoRole::Forward) + ",clock-rate=90000," +
                             "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-nack=(boolean)true";
    if (codec == hw::Codec::H264)
        b.add("rtph264pay", name("fwd_pay"), {{"pt", video_pt(codec, VideoRole::Forward)}, {"config-interval", "-1"}, {"aggregate-mode", "zero-latency"}});
    else
        b.add("rtpvp8pay", name("fwd_pay"), {{"pt", video_pt(codec, VideoRole::Forward)}, {"picture-id-mode", "15-bit"}});
    const std::string pinned = b.last() ? with_ssrc(b.last(), caps) : caps;
    b.caps(pinned);
    if (b.error()) return unexpected(*b.error());
    GRef<GstPad> sink = adopt(gst_element_request_pad_simple(webrtc_, "sink_%u"));
    streams_.push_back("patient");
    GRef<GstPad> src = adopt(gst_element_get_static_pad(b.last(), "src"));
    if (!sink || gst_pad_link(src.get(), sink.get()) != GST_PAD_LINK_OK)
        return unexpected(BuildError{name("webrtc"), "cannot link the forwarded video"});
    GObject* raw = nullptr;
    g_object_get(sink.get(), "transceiver", &raw, nullptr);
    GRef<GObject> transceiver = adopt(raw);
    GstCapsPtr prefs(gst_caps_from_string(
        (pinned + (codec == hw::Codec::H264 ? ",packetization-mode=(string)1" : "")).c_str()));
    if (transceiver) {
        g_object_set(transceiver.get(), "codec-preferences", prefs.get(), nullptr);
        g_object_set(transceiver.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, nullptr);
    }
    b.sync_with_parent();
    GRef<GstPad> teepad = adopt(gst_element_request_pad_simple(tee, "src_%u"));
    GRef<GstPad> qsink = adopt(gst_element_get_static_pad(queue, "sink"));
    if (gst_pad_link(teepad.get(), qsink.get()) != GST_PAD_LINK_OK)
        return unexpected(BuildError{name("fwd_queue"), "cannot link to the source's video"});
    // The new viewer needs a picture now: ask the source for a keyframe (a PLI to it).
    gst_pad_send_event(teepad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    forwarding_ = true;
    offer_new_streams();
    return {};
}

void Peer::request_stats() {
    if (!webrtc_) return;
    GstPromise* promise = gst_promise_new_with_change_func(
        [](GstPromise* promise, gpointer p) {
            auto* self = static_cast<Peer*>(p);
            GstPromisePtr held(promise);   // this callback holds the promise's last reference
            std::shared_ptr<GstStructure> reply;
            if (gst_promise_wait(held.get()) == GST_PROMISE_RESULT_REPLIED && gst_promise_get_reply(held.get()))
                reply.reset(gst_structure_copy(gst_promise_get_reply(held.get())), gst_structure_free);
            if (!reply) return;
            post(self->context_, self->call_alive_, [call = self->call_ptr_, id = self->options_.id, reply] {
                call->apply_stats(id, reply.get());
            });
        },
        this, nullptr);
    g_signal_emit_by_name(webrtc_, "get-stats", nullptr, promise);
}

}  // namespace consult::media
