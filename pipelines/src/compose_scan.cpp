#include "compose_scan.hpp"

#include "compose_track_names.hpp"
#include "hwconfig/c_boundary.hpp"
#include "hwconfig/gref.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>

namespace consult::media::composition {

const char* role_title(Role r) {
    switch (r) {
    case Role::RoomVideo: return "room-video";
    case Role::PatientVideo: return "patient-video";
    case Role::RoomAudio: return "room-audio";
    case Role::PatientAudio: return "patient-audio";
    }
    return "";
}

namespace {

struct SeenPad {
    std::string name, media, title;
    std::uint64_t track_number = 0;
    GstClockTime end = 0;
    bool has_buffers = false;
};

// Shared with the demuxer's streaming thread.
struct ScanState {
    GstElement* pipeline = nullptr;
    std::mutex lock;
    std::vector<SeenPad> pads;
    std::atomic<std::uint64_t> buffers{0};
};

struct PadProbe {
    ScanState* state;
    std::size_t index;
};

std::string stream_title(GstEvent* event) {
    GstTagList* tags = nullptr;
    gst_event_parse_tag(event, &tags);
    gchar* title = nullptr;
    if (!tags || gst_tag_list_get_scope(tags) != GST_TAG_SCOPE_STREAM ||
        !gst_tag_list_get_string(tags, GST_TAG_TITLE, &title))
        return {};
    GCharPtr owned(title);
    return owned.get();
}

GstPadProbeReturn on_pad_data(GstPad*, GstPadProbeInfo* info, gpointer p) {
    auto* probe = static_cast<PadProbe*>(p);
    std::lock_guard hold(probe->state->lock);
    SeenPad& seen = probe->state->pads[probe->index];
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
        GstClockTime ts = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : GST_BUFFER_DTS(buf);
        if (GST_CLOCK_TIME_IS_VALID(ts)) {
            if (GST_BUFFER_DURATION_IS_VALID(buf)) ts += GST_BUFFER_DURATION(buf);
            seen.end = std::max(seen.end, ts);
            seen.has_buffers = true;
        }
        ++probe->state->buffers;
    } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(ev) == GST_EVENT_TAG)
            if (std::string title = stream_title(ev); !title.empty()) seen.title = title;
    }
    return GST_PAD_PROBE_OK;
}

void on_pad_added(GstElement*, GstPad* pad, gpointer p) {
    auto* state = static_cast<ScanState*>(p);
    at_boundary("compose scan pad", [&] {
        SeenPad seen;
        seen.name = GST_PAD_NAME(pad);
        if (GstCapsPtr caps{gst_pad_get_current_caps(pad)}; caps && gst_caps_get_size(caps.get()) > 0)
            seen.media = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
        if (GCharPtr id{gst_pad_get_stream_id(pad)}) seen.track_number = track_number_from_stream_id(id.get());
        // An audio track's title is already stored on the pad; a video track's comes later.
        for (guint i = 0;; ++i) {
            GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_TAG, i);
            if (!ev) break;
            if (std::string title = stream_title(ev); !title.empty()) seen.title = title;
            gst_event_unref(ev);
        }
        std::size_t index;
        {
            std::lock_guard hold(state->lock);
            index = state->pads.size();
            state->pads.push_back(std::move(seen));
        }
        GstElement* sink = gst_element_factory_make("fakesink", nullptr);
        g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
        gst_bin_add(GST_BIN(state->pipeline), sink);
        GRef<GstPad> sinkpad = adopt(gst_element_get_static_pad(sink, "sink"));
        gst_pad_link(pad, sinkpad.get());
        gst_element_sync_state_with_parent(sink);
        gst_pad_add_probe(pad, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                          on_pad_data, new PadProbe{state, index}, [](gpointer d) { delete static_cast<PadProbe*>(d); });
    });
}

// Refuses what is plainly not a part before GStreamer sees it (a FIFO would block filesrc).
std::optional<std::string> check_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno == ENOENT ? std::string("no such file") : std::string(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (st.st_size == 0) return "empty file (0 bytes)";
    std::ifstream in(path, std::ios::binary);
    unsigned char magic[4] = {};
    if (!in.read(reinterpret_cast<char*>(magic), 4)) return "not a Matroska file (too short)";
    if (magic[0] != 0x1A || magic[1] != 0x45 || magic[2] != 0xDF || magic[3] != 0xA3) return "not a Matroska file";
    return std::nullopt;
}

std::optional<TrackCodec> codec_of(const std::string& media) {
    if (media == "video/x-h264") return TrackCodec::H264;
    if (media == "video/x-vp8") return TrackCodec::VP8;
    if (media == "audio/x-opus") return TrackCodec::Opus;
    return std::nullopt;
}

std::optional<Role> role_of(const std::string& title) {
    for (Role r : kRoles)
        if (title == role_title(r)) return r;
    return std::nullopt;
}

PartInfo assign_roles(const std::string& path, const std::vector<SeenPad>& pads) {
    PartInfo part;
    part.path = path;
    std::map<std::uint64_t, std::string> header_names;
    bool header_read = false;
    for (const SeenPad& seen : pads) {
        std::string title = seen.title;
        if (title.empty() && seen.track_number) {
            if (!header_read) header_names = matroska_track_names(path);
            header_read = true;
            if (auto it = header_names.find(seen.track_number); it != header_names.end()) title = it->second;
        }
        const std::string label = "track " + seen.name + (title.empty() ? " (untitled)" : " '" + title + "'");
        const auto role = role_of(title);
        const auto codec = codec_of(seen.media);
        if (!role) {
            part.notes.push_back(label + " is none of the four recorded tracks: left out");
        } else if (!codec || is_video(*role) != (*codec != TrackCodec::Opus)) {
            part.notes.push_back(label + ": unsupported codec " + seen.media + ": left out");
        } else if (part.tracks[std::size_t(*role)]) {
            part.notes.push_back(label + " appears twice: the second is left out");
        } else if (!seen.has_buffers) {
            part.notes.push_back(label + " has no media: left out");
        } else {
            part.tracks[std::size_t(*role)] = Track{seen.name, *codec, seen.end};
            part.duration = std::max(part.duration, seen.end);
        }
    }
    return part;
}

}  // namespace

expected<PartInfo, std::string> scan_part(const std::string& path, ComposeLoop& loop) {
    if (auto bad = check_file(path)) return unexpected(*bad);
    auto state = std::make_unique<ScanState>();
    GRef<GstElement> pipeline = adopt(gst_pipeline_new("compose-scan"));
    GRef<GstElement> src = adopt(gst_element_factory_make("filesrc", nullptr));
    GRef<GstElement> demux = adopt(gst_element_factory_make("matroskademux", nullptr));
    if (!src || !demux) return unexpected(std::string("filesrc or matroskademux missing (gstreamer1.0-plugins-good)"));
    g_object_set(src.get(), "location", path.c_str(), nullptr);
    gst_bin_add_many(GST_BIN(pipeline.get()), src.get(), demux.get(), nullptr);
    gst_element_link(src.get(), demux.get());
    state->pipeline = pipeline.get();
    g_signal_connect(demux.get(), "pad-added", G_CALLBACK(on_pad_added), state.get());

    expected<void, std::string> ran;
    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        GRef<GstBus> bus = adopt(gst_element_get_bus(pipeline.get()));
        GstMessagePtr msg{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)};
        ran = unexpected(msg ? describe_error(msg.get()) : std::string("would not start"));
    } else {
        ran = loop.run_until_eos({pipeline.get(), ""}, {}, [&] { return state->buffers.load(); });
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    if (!ran) return unexpected("cannot be read: " + ran.error());

    std::vector<SeenPad> pads;
    {
        std::lock_guard hold(state->lock);
        pads = state->pads;
    }
    if (pads.empty()) return unexpected(std::string("has no tracks"));
    PartInfo part = assign_roles(path, pads);
    if (part.duration == 0) {
        std::string why = "has none of the recorded tracks with media";
        for (const auto& n : part.notes) why += "; " + n;
        return unexpected(why);
    }
    return part;
}

}  // namespace consult::media::composition
