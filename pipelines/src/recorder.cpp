#include "recorder.hpp"

#include "main_thread.hpp"

#include <gst/video/video.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

namespace consult::media {

// One track's state, shared by the main thread and the streaming threads.
struct Recorder::Track {
    RecorderTrack spec;
    bool video = false;
    GRef<GstPad> tee_pad;            // requested from the call's tee, never linked
    gulong probe = 0;
    GRef<GstPad> input;              // the recorder's queue
    std::atomic<bool> ended{false};  // nothing more crosses into the recorder
    // Video: no keyframe has gone to the muxer since the start, or since the queue last
    // dropped frames (what follows a gap cannot be decoded).
    std::atomic<bool> waiting{false};
    std::atomic<bool> started{false};        // a keyframe has gone to the muxer
    std::atomic<unsigned> overruns{0};       // the queue was full and dropped its oldest
    unsigned overruns_seen = 0;              // the queue's streaming thread only
    GstClockTime last_pts = GST_CLOCK_TIME_NONE;   // the tee's streaming thread only
    GstElement* pipeline = nullptr;          // whose clock stamps what arrives (outlives the track's probe)

    static GstPadProbeReturn forward(GstPad* pad, GstPadProbeInfo* info, gpointer data);
    static GstPadProbeReturn keyframe_gate(GstPad*, GstPadProbeInfo* info, gpointer data);
};

namespace {

std::atomic<unsigned> recorder_count{0};

GstPad* mux_pad(GstElement* mux, bool video) {
    return gst_element_request_pad_simple(mux, video ? "video_%u" : "audio_%u");
}

// The tee's stream-start, caps and segment, handed on when they change (the pad is not
// linked, so GStreamer does not do it). EOS and tags never cross: ending a track and
// naming it are the recorder's decisions.
void sync_sticky_events(GstPad* from, GstPad* to) {
    gst_pad_sticky_events_foreach(from, [](GstPad*, GstEvent** ev, gpointer p) -> gboolean {
        auto* input = static_cast<GstPad*>(p);
        const GstEventType type = GST_EVENT_TYPE(*ev);
        if (type != GST_EVENT_STREAM_START && type != GST_EVENT_CAPS && type != GST_EVENT_SEGMENT) return TRUE;
        GstEvent* held = gst_pad_get_sticky_event(input, type, 0);
        if (type == GST_EVENT_SEGMENT) {
            // Buffers are stamped with the call's running time (Track::forward): one plain
            // time segment from 0, whatever the source's was.
            if (!held) {
                GstSegment seg;
                gst_segment_init(&seg, GST_FORMAT_TIME);
                gst_pad_send_event(input, gst_event_new_segment(&seg));
            }
        } else if (held != *ev) {
            gst_pad_send_event(input, gst_event_ref(*ev));
        }
        if (held) gst_event_unref(held);
        return TRUE;
    }, to);
}

// Matroska cannot change a track's codec settings mid-file, and matroskamux fails the
// whole file on new caps. Browsers change the size they send as their link allows: the
// track keeps its first caps, and the change travels in the stream itself (a VP8 keyframe
// carries its size; H.264 repeats its parameter sets before every keyframe), which the
// decoders follow.
GstPadProbeReturn keep_first_caps(GstPad* pad, GstPadProbeInfo* info, gpointer) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
    GRef<GstPad> peer = adopt(gst_pad_get_peer(pad));
    if (!peer || !gst_pad_has_current_caps(peer.get())) return GST_PAD_PROBE_OK;
    return GST_PAD_PROBE_DROP;
}

bool starts_with(GstObject* element, const std::string& prefix) {
    for (GstObject* o = element; o; o = GST_OBJECT_PARENT(o)) {
        const char* name = GST_OBJECT_NAME(o);
        if (name && std::strncmp(name, prefix.c_str(), prefix.size()) == 0) return true;
    }
    return false;
}

}  // namespace

// The call's tee pushes here. The buffer is handed to the recorder's queue and the push
// always succeeds: a tee passes any error of one branch upstream, and the encoder or
// depayloader feeding it would stop for good.
GstPadProbeReturn Recorder::Track::forward(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
    Track& t = **static_cast<std::shared_ptr<Track>*>(data);
    GstBuffer* buf = GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER ? GST_PAD_PROBE_INFO_BUFFER(info) : nullptr;
    if (!buf || t.ended) return GST_PAD_PROBE_DROP;
    // A received stream's first frames may come without a time (seen after a PLI): the
    // muxer would put them at 0 and wreck the file's timeline. Later ones take the time
    // of the one before.
    // Every track is stamped with the call's clock as it arrives here. A received
    // stream's own times follow the sender's clock and its segment (and after a PLI can
    // be missing or jump): trusted, they put the patient's track seconds away from the
    // room's and stretched the file. The arrival time is within the jitter buffer's
    // latency of the capture, and the same for every track.
    GstClockTime pts = GST_CLOCK_TIME_NONE;
    if (GstClock* clock = gst_element_get_clock(t.pipeline)) {
        const GstClockTime now = gst_clock_get_time(clock), base = gst_element_get_base_time(t.pipeline);
        gst_object_unref(clock);
        if (now >= base) pts = now - base;
    }
    if (!GST_CLOCK_TIME_IS_VALID(pts)) return GST_PAD_PROBE_DROP;
    // Frames that arrive together (a burst after a stall) stay a millisecond apart: the
    // file counts milliseconds, and two frames at one time lose one's time when decoded.
    if (GST_CLOCK_TIME_IS_VALID(t.last_pts) && pts < t.last_pts + GST_MSECOND) pts = t.last_pts + GST_MSECOND;
    t.last_pts = pts;
    GstBuffer* out = gst_buffer_make_writable(gst_buffer_ref(buf));   // the call's buffer is shared
    GST_BUFFER_PTS(out) = pts;
    GST_BUFFER_DTS(out) = pts;
    sync_sticky_events(pad, t.input.get());
    gst_pad_chain(t.input.get(), out);
    return GST_PAD_PROBE_DROP;
}

// Between the queue and the muxer: every video track starts on a keyframe, and starts
// again on one after the queue had to drop frames (a slow disk, a muxer waiting for
// another track). The timer asks the source for the keyframe meanwhile.
GstPadProbeReturn Recorder::Track::keyframe_gate(GstPad*, GstPadProbeInfo* info, gpointer data) {
    Track& t = *static_cast<Track*>(data);
    GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
    const unsigned overruns = t.overruns;
    if (!t.waiting && overruns == t.overruns_seen) return GST_PAD_PROBE_OK;
    if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
        t.waiting = true;
        return GST_PAD_PROBE_DROP;
    }
    t.overruns_seen = overruns;
    t.waiting = false;
    t.started = true;
    return GST_PAD_PROBE_OK;
}

Recorder::Recorder(GstBin* bin, std::filesystem::path file, RecorderEvents events)
    : bin_(bin), file_(std::move(file)), events_(std::move(events)),
      prefix_("rec" + std::to_string(++recorder_count) + "_"), context_(g_main_context_ref_thread_default()) {}

Recorder::~Recorder() {
    for (guint* t : {&keyframe_timer_, &stop_timer_})
        if (*t) g_source_remove(*t);
    g_main_context_unref(context_);
}

expected<std::shared_ptr<Recorder>, BuildError> Recorder::start(GstBin* bin, const std::filesystem::path& file,
                                                                std::vector<RecorderTrack> tracks, RecorderEvents events) {
    // Created here, owner-only whatever the umask; filesink then opens what exists. An
    // existing file is never overwritten.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return unexpected(BuildError{file.string(), std::string("cannot create the file: ") + std::strerror(errno)});
    ::fchmod(fd, 0600);
    ::close(fd);
    std::shared_ptr<Recorder> r(new Recorder(bin, file, std::move(events)));
    if (auto built = r->build(std::move(tracks)); !built) {
        remove_branch(bin, r->prefix_);
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
        return unexpected(built.error());
    }
    r->attach_tracks();
    return r;
}

expected<void, BuildError> Recorder::build(std::vector<RecorderTrack> tracks) {
    // Written as it goes: after a crash the file plays up to its last cluster (≤ 1 s).
    // offset-to-zero: the first track starts at 0, the others keep their distance to it.
    PipelineBuilder b(bin_);
    const std::string location = file_.string();
    b.add("matroskamux", prefix_ + "mux",
          {{"offset-to-zero", "true"}, {"min-cluster-duration", "500000000"}, {"max-cluster-duration", "1000000000"}});
    mux_ = b.last();
    b.add("filesink", prefix_ + "sink", {{"location", location}, {"sync", "false"}, {"async", "false"}});
    sink_ = b.last();
    if (b.error()) return unexpected(*b.error());
    b.sync_with_parent();
    for (unsigned i = 0; i < tracks.size(); ++i)
        if (auto r = build_track(tracks[i], i); !r) return r;
    GRef<GstPad> sinkpad = adopt(gst_element_get_static_pad(sink_, "sink"));
    gst_pad_add_probe(sinkpad.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                      [](GstPad*, GstPadProbeInfo* info, gpointer p) {
                          auto* self = static_cast<Recorder*>(p);   // alive until its elements have stopped
                          GstEvent* ev = GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
                                             ? GST_PAD_PROBE_INFO_EVENT(info) : nullptr;
                          if (ev && GST_EVENT_TYPE(ev) == GST_EVENT_EOS) self->on_file_eos();
                          else if (!ev && !self->started_ && self->every_video_started()) {
                              self->started_ = true;
                              post(self->context_, self->alive_, [self] { self->events_.started(self->file_.string()); });
                          }
                          return GST_PAD_PROBE_OK;
                      }, this, nullptr);
    return {};
}

expected<void, BuildError> Recorder::build_track(const RecorderTrack& spec, unsigned index) {
    const std::string n = prefix_ + std::to_string(index) + "_";
    PipelineBuilder b(bin_);
    // Bounded and leaky: a muxer waiting for another track (or a slow disk) costs the
    // recording its oldest two seconds, never the call anything.
    b.add("queue", n + "queue", {{"leaky", "downstream"}, {"max-size-buffers", "0"}, {"max-size-bytes", "0"},
                                 {"max-size-time", "2000000000"}});
    GstElement* queue = b.last();
    // The parameter sets go in the stream before every keyframe too: after a change of
    // size the file's header still holds the first ones (see keep_first_caps).
    if (spec.format == TrackFormat::H264)
        b.add("h264parse", n + "parse", {{"config-interval", "-1"}})
            .caps("video/x-h264,stream-format=avc,alignment=au", n + "avc");
    if (b.error()) return unexpected(*b.error());
    auto track = std::make_shared<Track>();
    track->spec = spec;
    track->pipeline = GST_ELEMENT(bin_);
    track->video = spec.format != TrackFormat::Opus;
    track->waiting = track->video;
    track->input = adopt(gst_element_get_static_pad(queue, "sink"));
    if (track->video) {   // the track outlives its elements (they stop before the recorder goes)
        g_signal_connect(queue, "overrun", G_CALLBACK(+[](GstElement*, gpointer p) { ++static_cast<Track*>(p)->overruns; }),
                         track.get());
        GRef<GstPad> queued = adopt(gst_element_get_static_pad(queue, "src"));
        gst_pad_add_probe(queued.get(), GST_PAD_PROBE_TYPE_BUFFER, &Track::keyframe_gate, track.get(), nullptr);
    }
    GRef<GstPad> out = adopt(gst_element_get_static_pad(b.last(), "src"));
    gst_pad_add_probe(out.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, keep_first_caps, nullptr, nullptr);
    GRef<GstPad> in = adopt(mux_pad(mux_, track->video));
    if (!in || gst_pad_link(out.get(), in.get()) != GST_PAD_LINK_OK)
        return unexpected(BuildError{n + "queue", "cannot join the recording's muxer"});
    b.sync_with_parent();
    // The track's name in the file (the contract in recorder.hpp), before any data. With a
    // language ("und": not known) matroskademux reports the name from the track header
    // itself, so a file cut short by a crash (no Tags at its end) still names its tracks.
    GstTagList* tags = gst_tag_list_new(GST_TAG_TITLE, spec.title.c_str(), GST_TAG_LANGUAGE_CODE, "und", nullptr);
    gst_tag_list_set_scope(tags, GST_TAG_SCOPE_STREAM);
    gst_pad_send_event(in.get(), gst_event_new_tag(tags));
    tracks_.push_back(std::move(track));
    return {};
}

// Only now does data flow: every element is playing and every track is named.
void Recorder::attach_tracks() {
    for (auto& t : tracks_) {
        t->tee_pad = adopt(gst_element_request_pad_simple(t->spec.tee, "src_%u"));
        if (!t->tee_pad) continue;
        t->probe = gst_pad_add_probe(t->tee_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Track::forward,
                                     new std::shared_ptr<Track>(t),
                                     [](gpointer p) { delete static_cast<std::shared_ptr<Track>*>(p); });
    }
    ask_for_keyframes();
    // A request can be lost (a PLI on a lossy link), and a track can wait again after its
    // queue dropped frames: asked every second while one waits.
    keyframe_timer_ = g_timeout_add(1000, [](gpointer p) -> gboolean {
        static_cast<Recorder*>(p)->ask_for_keyframes();
        return G_SOURCE_CONTINUE;
    }, this);
}

// Any thread: tracks_ does not change once built.
bool Recorder::every_video_started() const {
    for (const auto& t : tracks_)
        if (t->video && !t->started && !t->ended) return false;
    return true;
}

void Recorder::ask_for_keyframes() {
    if (stopping_) return;
    for (auto& t : tracks_) {
        if (!t->video || !t->waiting || t->ended) continue;
        if (t->spec.request_keyframe) t->spec.request_keyframe();
        else if (t->tee_pad)   // upstream through the tee to the depayloader and webrtcbin: a PLI
            gst_pad_send_event(t->tee_pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    }
}

void Recorder::end_track(Track& t, bool eos) {
    if (t.ended.exchange(true)) return;
    if (t.tee_pad) {
        gst_pad_remove_probe(t.tee_pad.get(), t.probe);
        if (GRef<GstElement> tee = adopt(gst_pad_get_parent_element(t.tee_pad.get())))
            gst_element_release_request_pad(tee.get(), t.tee_pad.get());
        t.tee_pad.reset();
    }
    // Serialized behind whatever the tee's thread is handing over right now.
    if (eos) gst_pad_send_event(t.input.get(), gst_event_new_eos());
}

void Recorder::end_tracks_of(const std::string& peer) {
    for (auto& t : tracks_)
        if (t->spec.peer == peer) end_track(*t, true);
}

void Recorder::stop() {
    if (stopping_ || removed_) return;
    stopping_ = true;
    for (auto& t : tracks_) end_track(*t, true);
    stop_timer_ = g_timeout_add(kStopTimeoutMs, [](gpointer p) -> gboolean {
        auto* self = static_cast<Recorder*>(p);
        self->stop_timer_ = 0;
        self->remove_elements(false, "the recording did not finish in time; the file may lack its index");
        return G_SOURCE_REMOVE;
    }, this);
}

void Recorder::fail(const std::string& why) { remove_elements(false, why); }

void Recorder::finish_with(std::function<void(std::shared_ptr<void> keep_alive)> release) {
    // Runs once, on the file's EOS or the timeout; from then on whoever stops the
    // pipeline holds this recorder (its probes may run until the pipeline has stopped).
    auto once = std::make_shared<std::once_flag>();
    std::function<void()> run = [once, release = std::move(release), weak = weak_from_this()] {
        std::call_once(*once, [&] { release(weak.lock()); });
    };
    for (guint* t : {&keyframe_timer_, &stop_timer_})
        if (*t) g_source_remove(std::exchange(*t, 0));
    if (removed_) return run();   // nothing left to finish
    {
        std::lock_guard hold(release_lock_);
        release_ = run;
    }
    stopping_ = true;
    for (auto& t : tracks_) end_track(*t, true);
    // The owner is gone: this timer holds the recorder until the file is done or given up.
    using Held = std::pair<std::shared_ptr<Recorder>, std::function<void()>>;
    g_timeout_add_full(G_PRIORITY_DEFAULT, kStopTimeoutMs, [](gpointer p) -> gboolean {
        static_cast<Held*>(p)->second();
        return G_SOURCE_REMOVE;
    }, new Held(shared_from_this(), run), [](gpointer p) { delete static_cast<Held*>(p); });
}

void Recorder::on_file_eos() {
    std::function<void()> release;
    {
        std::lock_guard hold(release_lock_);
        release = release_;
    }
    if (release) return release();   // finish_with: the pipeline stops now, the file complete
    post(context_, alive_, [this] {
        if (stop_timer_) g_source_remove(std::exchange(stop_timer_, 0));
        remove_elements(true, "");
    });
}

void Recorder::remove_elements(bool ok, const std::string& why) {
    if (removed_) return;
    removed_ = true;
    for (guint* t : {&keyframe_timer_, &stop_timer_})
        if (*t) g_source_remove(std::exchange(*t, 0));
    for (auto& t : tracks_) end_track(*t, false);
    // Released by the worker once every element has stopped (filesink has closed the
    // file); the owner hears of it on the main loop, this recorder alive until then.
    std::shared_ptr<Recorder> self = shared_from_this();
    std::shared_ptr<void> closed(nullptr, [self, ok, why](void*) {
        post(self->context_, self->alive_, [self, ok, why] { self->done(ok, why); });
    });
    remove_branch(bin_, prefix_, std::move(closed));
}

void Recorder::done(bool ok, const std::string& why) {
    if (std::exchange(finished_, true)) return;
    if (ok) events_.stopped(file_.string());
    else events_.failed(why);
}

bool Recorder::owns(GstObject* element) const { return starts_with(element, prefix_); }

bool Recorder::is_recorder_element(GstObject* element) {
    for (GstObject* o = element; o; o = GST_OBJECT_PARENT(o)) {
        const char* name = GST_OBJECT_NAME(o);
        if (name && std::strncmp(name, "rec", 3) == 0 && g_ascii_isdigit(name[3])) return true;
    }
    return false;
}

bool Recorder::records(const std::string& peer, bool video) const {
    for (const auto& t : tracks_)
        if (t->spec.peer == peer && t->video == video && !t->ended) return true;
    return false;
}

std::uint64_t Recorder::bytes() const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file_, ec);
    return ec ? 0 : size;
}

}  // namespace consult::media
