#include "mkv_reader.hpp"

#include "hwconfig/gref.hpp"

#include <gst/pbutils/pbutils.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace consult::test {

int Discovered::count(bool video) const {
    return int(std::count_if(tracks.begin(), tracks.end(), [video](const DiscoveredTrack& t) { return t.video == video; }));
}

bool Discovered::has(const std::string& title) const {
    return std::any_of(tracks.begin(), tracks.end(), [&](const DiscoveredTrack& t) { return t.title == title; });
}

namespace {

DiscoveredTrack describe(GstDiscovererStreamInfo* info, bool video) {
    DiscoveredTrack t;
    t.video = video;
    if (const GstTagList* tags = gst_discoverer_stream_info_get_tags(info)) {
        gchar* title = nullptr;
        if (gst_tag_list_get_string(tags, GST_TAG_TITLE, &title)) t.title = title;
        g_free(title);
    }
    if (GstCaps* caps = gst_discoverer_stream_info_get_caps(info)) {
        GCharPtr text(gst_caps_to_string(caps));
        t.caps = text.get();
        gst_caps_unref(caps);
    }
    return t;
}

}  // namespace

Discovered discover(const std::filesystem::path& file) {
    Discovered out;
    GErrorOut err;
    GRef<GstDiscoverer> d = adopt(gst_discoverer_new(10 * GST_SECOND, err.out()));
    if (!d) {
        out.error = err.message();
        return out;
    }
    GCharPtr uri(gst_filename_to_uri(file.c_str(), nullptr));
    GErrorOut failed;
    GRef<GstDiscovererInfo> info = adopt(gst_discoverer_discover_uri(d.get(), uri.get(), failed.out()));
    if (!info || gst_discoverer_info_get_result(info.get()) != GST_DISCOVERER_OK) {
        out.error = failed ? failed.message() : "not discovered";
        return out;
    }
    out.ok = true;
    out.duration = gst_discoverer_info_get_duration(info.get());
    for (bool video : {true, false}) {
        GList* streams = video ? gst_discoverer_info_get_video_streams(info.get()) : gst_discoverer_info_get_audio_streams(info.get());
        for (GList* l = streams; l; l = l->next) out.tracks.push_back(describe(GST_DISCOVERER_STREAM_INFO(l->data), video));
        gst_discoverer_stream_info_list_free(streams);
    }
    return out;
}

GstClockTime Demuxed::last_pts() const {
    GstClockTime last = GST_CLOCK_TIME_NONE;
    for (const auto& [pad, t] : tracks)
        if (GST_CLOCK_TIME_IS_VALID(t.last_pts) && (!GST_CLOCK_TIME_IS_VALID(last) || t.last_pts > last)) last = t.last_pts;
    return last;
}

namespace {

struct DemuxState {
    std::mutex mu;
    Demuxed result;
    GstElement* pipeline = nullptr;
};

GstPadProbeReturn observe(GstPad* pad, GstPadProbeInfo* info, gpointer p) {
    auto* state = static_cast<DemuxState*>(p);
    std::lock_guard hold(state->mu);
    DemuxedTrack& t = state->result.tracks[GST_PAD_NAME(pad)];
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
        if (t.buffers++ == 0) {
            t.first_is_keyframe = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
            t.first_pts = GST_BUFFER_PTS(buf);
        }
        if (GST_BUFFER_PTS_IS_VALID(buf)) t.last_pts = GST_BUFFER_PTS(buf);
        return GST_PAD_PROBE_OK;
    }
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_TAG) {
        GstTagList* tags = nullptr;
        gst_event_parse_tag(ev, &tags);
        gchar* title = nullptr;
        if (tags && gst_tag_list_get_string(tags, GST_TAG_TITLE, &title)) t.title = title;
        g_free(title);
    } else if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
        GstCaps* caps = nullptr;
        gst_event_parse_caps(ev, &caps);
        GCharPtr text(gst_caps_to_string(caps));
        t.caps = text.get();
    }
    return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement*, GstPad* pad, gpointer p) {
    auto* state = static_cast<DemuxState*>(p);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add(GST_BIN(state->pipeline), sink);
    gst_element_sync_state_with_parent(sink);
    GRef<GstPad> sinkpad = adopt(gst_element_get_static_pad(sink, "sink"));
    gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM), observe, state, nullptr);
    gst_pad_link(pad, sinkpad.get());
}

}  // namespace

Demuxed demux(const std::filesystem::path& file, std::chrono::seconds limit) {
    DemuxState state;
    GErrorOut err;
    const std::string desc = "filesrc name=src ! matroskademux name=demux";
    GRef<GstElement> pipeline = adopt(gst_parse_launch(desc.c_str(), err.out()));
    state.pipeline = pipeline.get();
    GRef<GstElement> src = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
    g_object_set(src.get(), "location", file.c_str(), nullptr);
    GRef<GstElement> demuxer = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "demux"));
    g_signal_connect(demuxer.get(), "pad-added", G_CALLBACK(on_pad_added), &state);
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    GRef<GstBus> bus = adopt(gst_element_get_bus(pipeline.get()));
    GstMessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), std::chrono::duration_cast<std::chrono::nanoseconds>(limit).count(),
                                                 GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    gint64 duration = -1;
    const bool known = gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration);
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    std::lock_guard hold(state.mu);
    if (known && duration >= 0) state.result.duration = GstClockTime(duration);
    state.result.reached_end = msg != nullptr;
    if (msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
        GError* e = nullptr;
        gst_message_parse_error(msg.get(), &e, nullptr);
        state.result.error = e ? e->message : "error";
        if (e) g_error_free(e);
    }
    return state.result;
}

}  // namespace consult::test
