#include "pipelines/call.hpp"

#include "camera_switch.hpp"
#include "pipelines/camera_source.hpp"
#include "encoder_branch.hpp"
#include "keyframe_gate.hpp"
#include "main_thread.hpp"
#include "peer.hpp"
#include "recorder.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <chrono>
#include <fstream>

namespace consult::media {

const char* event_name(MediaEvent e) {
    switch (e) {
    case MediaEvent::PeerConnected: return "peer-connected";
    case MediaEvent::ContentLost: return "content-lost";
    case MediaEvent::PeerFailed: return "peer-failed";
    case MediaEvent::AudioOnly: return "audio-only";
    case MediaEvent::VideoRestored: return "video-restored";
    case MediaEvent::CameraLost: return "camera-lost";
    case MediaEvent::CameraRestored: return "camera-restored";
    case MediaEvent::BranchFailed: return "branch-failed";
    case MediaEvent::RemoteDescriptionRefused: return "remote-description-refused";
    case MediaEvent::VideoRefused: return "video-refused";
    case MediaEvent::NothingUsable: return "nothing-usable";
    case MediaEvent::RecordingStarted: return "recording-started";
    case MediaEvent::RecordingStopped: return "recording-stopped";
    case MediaEvent::RecordingFailed: return "recording-failed";
    case MediaEvent::TrackArrived: return "track-arrived";
    }
    return "unknown";
}

Call::VideoSource::VideoSource(std::string p, unsigned min) : prefix(std::move(p)), min_kbps(min) {}
Call::VideoSource::~VideoSource() = default;

Call::Call(const CallSettings& settings, CallListener& listener)
    : settings_(settings), listener_(listener), context_(g_main_context_ref_thread_default()) {}

Call::~Call() {
    *alive_ = false;
    alive_.reset();
    for (guint* t : {&stats_timer_, &restore_timer_, &bus_watch_})
        if (*t) g_source_remove(*t);
    // A running recording is finished first (its patient tracks end before their peer goes);
    // it then stops the pipeline itself.
    const bool recorder_stops_pipeline = recorder_ != nullptr;
    if (recorder_) finish_recording_for_teardown();
    for (auto& [id, peer] : peers_) {
        std::shared_ptr<Peer> gone(std::move(peer));
        gone->teardown(gone);
    }
    peers_.clear();
    // Stopped on a worker thread: the main loop never waits on a streaming thread.
    if (pipeline_ && !recorder_stops_pipeline) {
        std::vector<GRef<GstElement>> whole;
        whole.push_back(std::move(pipeline_));
        retire(std::move(whole));
    }
    g_main_context_unref(context_);
}

expected<std::unique_ptr<Call>, BuildError> Call::create(const CallSettings& settings, CallListener& listener) {
    if (!settings.encoder) return unexpected(BuildError{"encoder", "no usable video encoder on this box"});
    std::unique_ptr<Call> call(new Call(settings, listener));
    if (auto built = call->build(); !built) return unexpected(built.error());
    if (gst_element_set_state(call->pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        return unexpected(BuildError{"pipeline", "the call's pipeline refused to start"});
    return call;
}

expected<void, BuildError> Call::build() {
    pipeline_ = adopt(gst_pipeline_new("call"));
    GstBin* bin = GST_BIN(pipeline_.get());
    camera_ = std::make_unique<CameraSwitch>(bin, settings_);
    if (auto r = camera_->build(); !r) return r;

    // The camera's frames go to a tee; each codec in use has its own encoder branch
    // from there (encoder_branch.hpp). The main codec's runs for the whole call.
    PipelineBuilder b(bin, camera_->output());
    b.add("tee", "vraw", {{"allow-not-linked", "true"}});
    if (b.error()) return unexpected(*b.error());
    room_.raw = b.last();
    bitrate_kbps_ = settings_.bitrate.start_kbps;
    if (!branch_for(room_, settings_.encoder->codec))
        return unexpected(BuildError{std::string(settings_.encoder->factory), "the video encoder could not be set up"});

    if (auto r = build_audio(); !r) return r;

    auto bus = adopt(gst_element_get_bus(pipeline_.get()));
    bus_watch_ = gst_bus_add_watch(bus.get(), &Call::on_bus, this);
    stats_timer_ = g_timeout_add(settings_.stats_interval_ms, [](gpointer p) -> gboolean {
        static_cast<Call*>(p)->poll_stats();
        return G_SOURCE_CONTINUE;
    }, this);
    return {};
}

namespace {

// The probe's device, as the builder takes properties (views into the settings).
std::vector<hw::Property> device_props(const hw::SourceChoice& device) {
    std::vector<hw::Property> out;
    for (const auto& p : device.element_props) out.push_back({p.name, p.value});
    return out;
}

}  // namespace

expected<void, BuildError> Call::build_audio() {
    GstBin* bin = GST_BIN(pipeline_.get());
    const std::string raw = "audio/x-raw,format=S16LE,rate=48000,channels=1";
    // Far end: every peer's audio mixed, seen by the echo probe, then the speaker.
    PipelineBuilder far(bin);
    far.add("audiotestsrc", "farend_silence", {{"is-live", "true"}, {"wave", "silence"}})
        .add("audiomixer", "farend").add("audioconvert", "farend_convert").add("audioresample", "farend_resample")
        .caps(raw).add("webrtcechoprobe", "farend_probe").add("audioconvert", "farend_out_convert");
    if (settings_.speaker.test_source) far.add("fakesink", "speaker", {{"sync", "true"}, {"async", "false"}});
    else if (!settings_.speaker.element.empty()) far.add(settings_.speaker.element, "speaker", device_props(settings_.speaker));
    else far.add("autoaudiosink", "speaker", {{"sync", "true"}});
    if (far.error()) return unexpected(*far.error());
    GRef<GstElement> mixer = adopt(gst_bin_get_by_name(bin, "farend"));
    farend_mixer_ = mixer.get();  // the pipeline owns it; keep a borrowed pointer

    PipelineBuilder mic(bin);
    if (settings_.microphone.test_source)
        mic.add("audiotestsrc", "mic_src", {{"is-live", "true"}, {"wave", "sine"}, {"freq", "440"}, {"volume", "0.05"}});
    else if (!settings_.microphone.element.empty())
        mic.add(settings_.microphone.element, "mic_src", device_props(settings_.microphone));
    else
        mic.add("autoaudiosrc", "mic_src");
    mic.add("audioconvert", "mic_convert").add("audioresample", "mic_resample").caps(raw);
    if (settings_.echo_cancel)
        mic.add("webrtcdsp", "mic_dsp", {{"probe", "farend_probe"}, {"echo-cancel", "true"}, {"noise-suppression", "true"}});
    mic.add("audioconvert", "mic_post").add("volume", "mic_mute").add("opusenc", "aenc", {{"bitrate", "32000"}, {"inband-fec", "true"}, {"frame-size", "20"}})
        .add("tee", "atee", {{"allow-not-linked", "true"}});
    if (mic.error()) return unexpected(*mic.error());
    audio_tee_ = mic.last();
    return {};
}

expected<void, BuildError> Call::add_peer(const PeerOptions& options) {
    if (options.id.empty() || peers_.count(options.id))
        return unexpected(BuildError{options.id, "a peer needs a unique id"});
    auto peer = std::make_unique<Peer>(*this, options);
    auto give_up = [&peer] {
        std::shared_ptr<Peer> gone(std::move(peer));
        gone->teardown(gone);
    };
    if (auto r = peer->build(); !r) {
        give_up();
        return r;
    }
    if (options.adapt_bitrate) controller_.emplace(settings_.bitrate);
    if (content_.raw && options.send_video)
        if (auto r = peer->add_video_sender(true); !r) {
            give_up();
            return r;
        }
    peers_.emplace(options.id, std::move(peer));
    if (options.forward_from) link_forwards(*options.forward_from);
    return {};
}

void Call::on_incoming_video(const std::string& peer, const std::string& tee, hw::Codec codec) {
    if (!peers_.count(peer)) return;
    incoming_video_[peer] = {tee, codec};
    link_forwards(peer);
    listener_.event(peer, MediaEvent::TrackArrived, "video");
}

void Call::link_forwards(const std::string& source) {
    auto it = incoming_video_.find(source);
    if (it == incoming_video_.end()) return;   // linked when the source's video arrives
    GRef<GstElement> tee = adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), it->second.first.c_str()));
    if (!tee) return;
    for (auto& [id, p] : peers_) {
        if (p->options().forward_from != source || p->forwarding()) continue;
        if (auto r = p->link_forward(tee.get(), it->second.second); !r)
            listener_.event(id, MediaEvent::BranchFailed, "cannot forward " + source + ": " + r.error().describe());
    }
}

void Call::remove_peer(const std::string& id) {
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    if (it->second->options().adapt_bitrate) controller_.reset();
    // Its recorded tracks end cleanly (EOS) before its elements go; the room's go on.
    if (recorder_) recorder_->end_tracks_of(id);
    std::shared_ptr<Peer> gone(std::move(it->second));
    peers_.erase(it);
    gone->teardown(gone);
    incoming_video_.erase(id);
    incoming_audio_.erase(id);
}

bool Call::has_peer(const std::string& id) const { return peers_.count(id) > 0; }

expected<void, std::string> Call::set_remote_description(const std::string& peer, SdpType type,
                                                              const std::string& sdp) {
    auto it = peers_.find(peer);
    if (it == peers_.end()) return unexpected("no such peer " + peer);
    return it->second->set_remote_description(type, sdp);
}

bool Call::awaiting_answer(const std::string& peer) const {
    auto it = peers_.find(peer);
    return it != peers_.end() && it->second->awaiting_answer();
}

void Call::add_remote_candidate(const std::string& peer, unsigned mline, const std::string& candidate) {
    if (auto it = peers_.find(peer); it != peers_.end()) it->second->add_remote_candidate(mline, candidate);
}

void Call::force_keyframe() {
    for (VideoSource* src : {&room_, &content_})
        for (auto& [codec, branch] : src->branches) branch->force_keyframe();
}

unsigned Call::keyframes_forwarded() const {
    unsigned n = 0;
    for (const auto& [codec, branch] : room_.branches) n += branch->gate().forwarded;
    return n;
}

unsigned Call::keyframes_suppressed() const {
    unsigned n = 0;
    for (const auto& [codec, branch] : room_.branches) n += branch->gate().suppressed;
    return n;
}

std::vector<hw::Codec> Call::video_codecs() const {
    std::vector<hw::Codec> out{settings_.encoder->codec};
    for (const hw::EncoderRow* row : settings_.fallbacks)
        if (row && std::find(out.begin(), out.end(), row->codec) == out.end()) out.push_back(row->codec);
    std::stable_partition(out.begin(), out.end(), [this](hw::Codec c) {
        auto it = room_.branches.find(c);
        return it != room_.branches.end() && it->second->users > 0;
    });
    return out;
}

std::vector<std::string> Call::running_encoders() const {
    std::vector<std::string> out;
    for (const VideoSource* src : {&room_, &content_})
        for (const auto& [codec, branch] : src->branches) out.push_back(branch->prefix() + "enc");
    return out;
}

EncoderBranch* Call::branch_for(VideoSource& source, hw::Codec codec) {
    if (auto it = source.branches.find(codec); it != source.branches.end()) return it->second.get();
    if (!source.raw) return nullptr;
    std::vector<const hw::EncoderRow*> rows{settings_.encoder};
    rows.insert(rows.end(), settings_.fallbacks.begin(), settings_.fallbacks.end());
    for (const hw::EncoderRow* row : rows) {
        if (!row || row->codec != codec) continue;
        const std::string prefix = source.prefix + std::string(hw::codec_name(codec)) + "_";
        auto branch = EncoderBranch::build(GST_BIN(pipeline_.get()), source.raw, *row, prefix,
                                           {settings_.width, settings_.height},
                                           std::max(source.min_kbps, bitrate_kbps_), true);
        if (!branch) {
            listener_.event("", MediaEvent::BranchFailed, branch.error().describe());
            continue;
        }
        return (source.branches[codec] = std::move(*branch)).get();
    }
    return nullptr;
}

void Call::release_branch(VideoSource& source, hw::Codec codec) {
    auto it = source.branches.find(codec);
    if (it == source.branches.end()) return;
    if (it->second->users > 0) --it->second->users;
    prune_branches(source);
}

void Call::prune_branches(VideoSource& source) {
    const bool used = std::any_of(source.branches.begin(), source.branches.end(),
                                  [](const auto& b) { return b.second->users > 0; });
    // While no screen takes any, the room keeps one warm: the main codec's when it runs.
    std::optional<hw::Codec> warm;
    if (&source == &room_ && !used && !source.branches.empty())
        warm = source.branches.count(settings_.encoder->codec) ? settings_.encoder->codec : source.branches.begin()->first;
    for (auto it = source.branches.begin(); it != source.branches.end();) {
        if (it->second->users > 0 || it->first == warm) {
            ++it;
            continue;
        }
        it->second->remove(GST_BIN(pipeline_.get()));   // nobody needs this codec any more: stop encoding it
        it = source.branches.erase(it);
    }
    if (&source == &room_) fit_capture();
}

void Call::fit_capture() {
    // The camera stays at the full size. Capturing 540 lines while only VP8 screens took
    // the call saved about 0.1 of a core, but growing the capture again when an H.264
    // screen joined raced the new encoder's first caps: in about one run in five the
    // camera failed to renegotiate and the call showed the "camera unavailable" slate
    // (CallFixture.TheVp8FallbackIsKeptAt540Lines…). VP8 is scaled in its own branch.
    if (camera_) camera_->resize(settings_.width, settings_.height);
}

bool Call::showing_slate() const { return camera_->on_slate(); }

void Call::set_microphone_muted(bool muted) {
    GRef<GstElement> volume = adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "mic_mute"));
    if (volume) g_object_set(volume.get(), "mute", gboolean(muted), nullptr);
    mic_muted_ = muted;
}

void Call::set_camera_off(bool off) { camera_->set_privacy(off); }

std::vector<std::string> Call::streams(const std::string& peer) const {
    auto it = peers_.find(peer);
    return it == peers_.end() ? std::vector<std::string>{} : it->second->streams();
}

bool Call::content_available() const {
    const auto& c = settings_.content;   // the probe names an unconfigured one "none"
    return !c.test_source || (!c.name.empty() && c.name != "none");
}

expected<void, BuildError> Call::build_content() {
    const auto& cam = settings_.content;
    PipelineBuilder b(GST_BIN(pipeline_.get()));
    add_camera_source(b, cam, "content_", kContentTestPattern);
    b.add("videoconvert", "content_convert").add("videoscale", "content_scale").add("videorate", "content_rate")
        .caps("video/x-raw,width=" + std::to_string(settings_.width) + ",height=" + std::to_string(settings_.height) +
              ",framerate=" + std::to_string(settings_.fps) + "/1,pixel-aspect-ratio=1/1")
        .add("valve", "content_valve", {{"drop", "false"}});
    GstElement* valve = b.last();
    // Content is detail (a tooth, a document): its encoders keep a steady share of the
    // room camera's rate (min_kbps). Each peer's answer picks the codec.
    b.add("tee", "content_raw", {{"allow-not-linked", "true"}});
    if (b.error()) {
        remove_branch(GST_BIN(pipeline_.get()), "content_");
        return unexpected(*b.error());
    }
    content_valve_ = valve;
    content_.raw = b.last();
    b.sync_with_parent();
    return {};
}

expected<void, BuildError> Call::set_content_shared(bool on) {
    if (on == content_on_) return {};
    if (on && !content_available()) return unexpected(BuildError{"content", "no second camera is configured"});
    if (on && !content_.raw) {
        if (auto built = build_content(); !built) return built;
        for (auto& [id, peer] : peers_) {
            if (!peer->options().send_video) continue;
            if (auto r = peer->add_video_sender(true); !r) return r;
        }
    }
    if (content_valve_) g_object_set(content_valve_, "drop", gboolean(!on), nullptr);
    content_on_ = on;
    if (on)
        for (auto& [codec, branch] : content_.branches) branch->force_keyframe();
    return {};
}
bool Call::camera_off() const { return camera_->privacy(); }

int Call::capture_height() const { return camera_->height(); }

void Call::set_video_bitrate(unsigned kbps) {
    bitrate_kbps_ = kbps;
    for (auto& [codec, branch] : room_.branches) branch->set_bitrate(kbps);
}

gboolean Call::on_bus(GstBus*, GstMessage* msg, gpointer p) {
    auto* self = static_cast<Call*>(p);
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) self->on_error(msg);
    return G_SOURCE_CONTINUE;
}

void Call::on_error(GstMessage* msg) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    GErrorPtr owned(err);
    const std::string what = err ? err->message : "unknown error";
    GstObject* src = GST_MESSAGE_SRC(msg);
    const std::string from = src ? GST_OBJECT_NAME(src) : "?";
    dump_dot(from);
    if (Recorder::is_recorder_element(src)) {   // the recording ends; the call goes on
        on_recording_error(msg);
        return;
    }
    if (camera_->owns(src)) {
        camera_->show_slate();
        listener_.event("", MediaEvent::CameraLost, from + ": " + what);
        if (!restore_timer_)
            restore_timer_ = g_timeout_add_seconds(2, [](gpointer p) -> gboolean {
                auto* self = static_cast<Call*>(p);
                if (!self->camera_->try_restore()) return G_SOURCE_CONTINUE;
                self->restore_timer_ = 0;
                self->force_keyframe();
                self->listener_.event("", MediaEvent::CameraRestored, "");
                return G_SOURCE_REMOVE;
            }, this);
        return;
    }
    if (std::string(from).rfind("content_", 0) == 0) {
        // The second camera went away: stop sharing; the call goes on.
        if (content_valve_) g_object_set(content_valve_, "drop", TRUE, nullptr);
        content_on_ = false;
        GRef<GstElement> src_el = adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "content_src"));
        if (src_el) gst_element_set_locked_state(src_el.get(), TRUE), gst_element_set_state(src_el.get(), GST_STATE_NULL);
        listener_.event("", MediaEvent::ContentLost, from + ": " + what);
        return;
    }
    for (auto& [id, peer] : peers_) {
        const std::string prefix = "p_" + id + "_";
        for (GstObject* o = src; o; o = GST_OBJECT_PARENT(o))
            if (std::string(GST_OBJECT_NAME(o)).rfind(prefix, 0) == 0) {
                const std::string peer_id = id;
                remove_peer(peer_id);
                listener_.event(peer_id, MediaEvent::PeerFailed, from + ": " + what);
                return;
            }
    }
    listener_.event("", MediaEvent::BranchFailed, from + ": " + what);
}

void Call::dump_dot(const std::string& reason) {
    if (settings_.dot_dir.empty()) return;
    GCharPtr dot(gst_debug_bin_to_dot_data(GST_BIN(pipeline_.get()), GST_DEBUG_GRAPH_SHOW_ALL));
    const auto stamp = std::chrono::system_clock::now().time_since_epoch() / std::chrono::milliseconds(1);
    std::string safe = reason;
    std::replace_if(safe.begin(), safe.end(), [](char c) { return !g_ascii_isalnum(c) && c != '_'; }, '_');
    std::ofstream(settings_.dot_dir / ("call-error-" + std::to_string(stamp) + "-" + safe + ".dot")) << dot.get();
}

void Call::poll_stats() {
    for (auto& [id, peer] : peers_) peer->request_stats();
}

void load_call_plugins() {
    static constexpr const char* kElements[] = {
        "webrtcbin", "nicesrc", "nicesink", "dtlssrtpenc", "dtlssrtpdec", "srtpenc", "srtpdec", "rtpbin",
        "rtpfunnel", "opusenc", "opusdec", "rtpopuspay", "rtpopusdepay", "rtpvp8pay", "rtpvp8depay", "vp8dec",
        "rtph264pay", "rtph264depay", "h264parse", "avdec_h264", "tee", "queue", "valve", "videoconvert",
        "videoscale", "videorate", "audioconvert", "audioresample", "audiomixer"};
    for (const char* name : kElements)
        if (GstElement* e = gst_element_factory_make(name, nullptr)) gst_object_unref(gst_object_ref_sink(e));
}

}  // namespace consult::media
