#include "compose_fixture.hpp"

#include "hwconfig/gref.hpp"

#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

namespace consult::test::composing {

namespace {

// What browsers send and the recorder keeps: 4:2:0, H.264 constrained baseline or VP8.
std::string video_branch(const char* codec, const char* pattern, int width, int height, const char* title,
                         const std::string& length) {
    // "openh264": the encoder Chromium's own software H.264 uses, whose stream carries no
    // timing in its parameter sets (x264's does, and decoders fill missing times from it).
    std::string enc = std::string(codec) == "openh264" ? "openh264enc gop-size=30 ! video/x-h264,profile=constrained-baseline ! h264parse"
                      : std::string(codec) == "h264"
                          ? "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
                            "video/x-h264,profile=constrained-baseline ! h264parse"
                          : "vp8enc deadline=1 cpu-used=16 keyframe-max-dist=30";
    return "videotestsrc " + length + " pattern=" + pattern + " ! video/x-raw,format=I420,width=" + std::to_string(width) +
           ",height=" + std::to_string(height) + ",framerate=30/1 ! " + enc + " ! taginject tags=\"title=" + title +
           "\" ! mux. ";
}

std::string audio_branch(int freq, const char* title, const std::string& length) {
    return "audiotestsrc " + length + " samplesperbuffer=960 freq=" + std::to_string(freq) +
           " ! audio/x-raw,rate=48000,channels=1 ! opusenc ! taginject tags=\"title=" + title + "\" ! mux. ";
}

// `live`: sources run in real time and never end by themselves.
std::string part_description(const std::string& path, const PartSpec& s, bool live) {
    const std::string vlen = live ? "is-live=true" : "num-buffers=" + std::to_string(int(s.seconds * 30));
    const std::string alen = live ? "is-live=true" : "num-buffers=" + std::to_string(int(s.seconds * 50));
    std::string d;
    if (s.room_video) d += video_branch(s.room_codec, s.room_pattern, 640, 360, "room-video", vlen);
    if (s.patient_video) {
        std::string plen = vlen;
        if (!live && s.patient_video_seconds >= 0)
            plen = "num-buffers=" + std::to_string(int(s.patient_video_seconds * 30));
        if (s.patient_video_from > 0)
            plen += " timestamp-offset=" + std::to_string(std::int64_t(s.patient_video_from * 1e9));
        d += video_branch(s.patient_codec, s.patient_pattern, 480, 360, "patient-video", plen);
        if (s.patient_twin_frames) {   // spliced in before the muxer (see twin_frames)
            const std::string tail = "! taginject tags=\"title=patient-video\" ! mux. ";
            // As a browser's stream arrives: no frame rate, no frame durations.
            const std::string media = std::string(s.patient_codec) == "vp8" ? "video/x-vp8" : "video/x-h264";
            d.replace(d.rfind(tail), tail.size(), "! capssetter caps=\"" + media + ",framerate=(fraction)0/1\" ! identity name=twins " + tail);
        }
    }
    if (s.room_audio) d += audio_branch(440, "room-audio", alen);
    if (s.patient_audio) d += audio_branch(660, "patient-audio", alen);
    return d + "matroskamux name=mux ! filesink location=\"" + path + "\"";
}

GRef<GstElement> launch(const std::string& description) {
    GErrorOut err;
    GstElement* p = gst_parse_launch(description.c_str(), err.out());
    EXPECT_FALSE(err) << err.message() << " in " << description;
    return adopt(p);
}

// Waits for EOS or an error on `pipeline`'s bus; "" on EOS.
std::string wait_eos(GstElement* pipeline, std::chrono::seconds limit) {
    GRef<GstBus> bus = adopt(gst_element_get_bus(pipeline));
    GstMessagePtr msg{gst_bus_timed_pop_filtered(bus.get(), GstClockTime(limit.count()) * GST_SECOND,
                                                 GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR))};
    if (!msg) return "no EOS within " + std::to_string(limit.count()) + " s";
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) return "";
    GErrorOut err;
    gst_message_parse_error(msg.get(), err.out(), nullptr);
    return std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg.get()))) + ": " + err.message();
}

GstClockTime buffer_end(GstBuffer* buf) {
    GstClockTime t = GST_BUFFER_PTS_IS_VALID(buf) ? GST_BUFFER_PTS(buf) : GST_BUFFER_DTS(buf);
    if (!GST_CLOCK_TIME_IS_VALID(t)) return 0;
    return t + (GST_BUFFER_DURATION_IS_VALID(buf) ? GST_BUFFER_DURATION(buf) : 0);
}

// Links every new pad of a demuxer or decodebin to its own fakesink and records how far
// each kind of stream got.
struct Ends {
    GstElement* pipeline = nullptr;
    std::mutex lock;
    GstClockTime video = 0, audio = 0, any = 0;
    std::uint64_t video_frames = 0;
};

void sink_every_pad(GstElement*, GstPad* pad, gpointer p) {
    auto* ends = static_cast<Ends*>(p);
    GstCapsPtr caps{gst_pad_get_current_caps(pad)};
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    const bool video = caps && g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps.get(), 0)), "video/");
    GstElement* queue = gst_element_factory_make("queue", nullptr);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    // No preroll: a track that starts late must not hold the pipeline in PAUSED.
    g_object_set(sink, "sync", FALSE, "async", FALSE, nullptr);
    gst_bin_add_many(GST_BIN(ends->pipeline), queue, sink, nullptr);
    gst_element_link(queue, sink);
    GRef<GstPad> in = adopt(gst_element_get_static_pad(queue, "sink"));
    gst_pad_link(pad, in.get());
    gst_element_sync_state_with_parent(sink);
    gst_element_sync_state_with_parent(queue);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER,
                      video ? GstPadProbeCallback([](GstPad*, GstPadProbeInfo* info, gpointer e) {
                          auto* ends = static_cast<Ends*>(e);
                          std::lock_guard hold(ends->lock);
                          ends->video = std::max(ends->video, buffer_end(GST_PAD_PROBE_INFO_BUFFER(info)));
                          ends->any = std::max(ends->any, ends->video);
                          ++ends->video_frames;
                          return GST_PAD_PROBE_OK;
                      })
                            : GstPadProbeCallback([](GstPad*, GstPadProbeInfo* info, gpointer e) {
                                  auto* ends = static_cast<Ends*>(e);
                                  std::lock_guard hold(ends->lock);
                                  ends->audio = std::max(ends->audio, buffer_end(GST_PAD_PROBE_INFO_BUFFER(info)));
                                  ends->any = std::max(ends->any, ends->audio);
                                  return GST_PAD_PROBE_OK;
                              }),
                      ends, nullptr);
}

// Moves every tenth buffer leaving the element named "twins" to 0.4 ms after the one
// before, and takes every buffer's duration away.
void twin_frames(GstElement* pipeline) {
    GRef<GstElement> twins = adopt(gst_bin_get_by_name(GST_BIN(pipeline), "twins"));
    if (!twins) return;
    GRef<GstPad> src = adopt(gst_element_get_static_pad(twins.get(), "src"));
    struct Seen {
        GstClockTime last = GST_CLOCK_TIME_NONE;
        unsigned count = 0;
    };
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, [](GstPad*, GstPadProbeInfo* info, gpointer p) {
        auto* seen = static_cast<Seen*>(p);
        GstBuffer* buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
        GST_PAD_PROBE_INFO_DATA(info) = buf;
        GST_BUFFER_DURATION(buf) = GST_CLOCK_TIME_NONE;
        if (GST_CLOCK_TIME_IS_VALID(seen->last) && ++seen->count % 10 == 0) {
            GST_BUFFER_PTS(buf) = seen->last + 400 * GST_USECOND;
            GST_BUFFER_DTS(buf) = GST_BUFFER_PTS(buf);
        }
        seen->last = GST_BUFFER_PTS(buf);
        return GST_PAD_PROBE_OK;
    }, new Seen, [](gpointer p) { delete static_cast<Seen*>(p); });
}

}  // namespace

std::string make_part(const TempDir& dir, const std::string& name, const PartSpec& spec) {
    const std::string path = (dir / name).string();
    auto pipeline = launch(part_description(path, spec, false));
    if (!pipeline) return path;
    twin_frames(pipeline.get());
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    const std::string error = wait_eos(pipeline.get(), std::chrono::seconds(60));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    EXPECT_EQ(error, "") << "making " << name;
    return path;
}

std::string make_crashed_part(const TempDir& dir, const std::string& name, PartSpec spec) {
    const std::string path = (dir / name).string();
    auto pipeline = launch(part_description(path, spec, true));
    if (!pipeline) return path;
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    std::this_thread::sleep_for(std::chrono::milliseconds(int(spec.seconds * 1000)));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);   // no EOS: the muxer never finishes the file
    return path;
}

void cut_tail(const std::string& path, double fraction) {
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, std::uintmax_t(double(size) * (1.0 - fraction)));
}

GstClockTime media_end(const std::string& path) {
    Ends ends;
    auto pipeline = launch("filesrc location=\"" + path + "\" ! matroskademux name=d");
    if (!pipeline) return 0;
    ends.pipeline = pipeline.get();
    GRef<GstElement> demux = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "d"));
    g_signal_connect(demux.get(), "pad-added", G_CALLBACK(sink_every_pad), &ends);
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    const std::string error = wait_eos(pipeline.get(), std::chrono::seconds(30));
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    EXPECT_EQ(error, "") << "reading " << path;
    return ends.any;
}

Discovered discover(const std::string& path) {
    Discovered out;
    GErrorOut err;
    GRef<GstDiscoverer> discoverer = adopt(gst_discoverer_new(30 * GST_SECOND, err.out()));
    if (!discoverer) {
        out.error = err.message();
        return out;
    }
    GCharPtr uri(gst_filename_to_uri(path.c_str(), nullptr));
    GErrorOut derr;
    GRef<GstDiscovererInfo> info = adopt(gst_discoverer_discover_uri(discoverer.get(), uri.get(), derr.out()));
    if (!info || gst_discoverer_info_get_result(info.get()) != GST_DISCOVERER_OK) {
        out.error = derr ? derr.message() : "discoverer failed";
        return out;
    }
    out.ok = true;
    out.duration = gst_discoverer_info_get_duration(info.get());
    GList* video = gst_discoverer_info_get_video_streams(info.get());
    GList* audio = gst_discoverer_info_get_audio_streams(info.get());
    out.video_streams = g_list_length(video);
    out.audio_streams = g_list_length(audio);
    if (video) {
        auto* v = GST_DISCOVERER_VIDEO_INFO(video->data);
        out.width = int(gst_discoverer_video_info_get_width(v));
        out.height = int(gst_discoverer_video_info_get_height(v));
    }
    gst_discoverer_stream_info_list_free(video);
    gst_discoverer_stream_info_list_free(audio);
    return out;
}

Decoded decode_to_end(const std::string& path) {
    Decoded out;
    Ends ends;
    auto pipeline = launch("filesrc location=\"" + path + "\" ! decodebin name=d");
    if (!pipeline) return out;
    ends.pipeline = pipeline.get();
    GRef<GstElement> decodebin = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "d"));
    g_signal_connect(decodebin.get(), "pad-added", G_CALLBACK(sink_every_pad), &ends);
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    out.error = wait_eos(pipeline.get(), std::chrono::seconds(120));
    out.reached_eos = out.error.empty();
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    out.last_video_end = ends.video;
    out.last_audio_end = ends.audio;
    out.video_frames = ends.video_frames;
    return out;
}

Rgb Frame::at(int x, int y) const {
    const std::size_t stride = (std::size_t(width) * 3 + 3) & ~std::size_t(3);
    const std::size_t i = std::size_t(y) * stride + std::size_t(x) * 3;
    if (i + 2 >= rgb.size()) return {};
    return Rgb{static_cast<unsigned char>(rgb[i]), static_cast<unsigned char>(rgb[i + 1]), static_cast<unsigned char>(rgb[i + 2])};
}

Frame frame_at(const std::string& path, GstClockTime at) {
    Frame out;
    auto pipeline = launch("filesrc location=\"" + path + "\" ! decodebin ! videoconvert ! video/x-raw,format=RGB ! "
                           "appsink name=s sync=false max-buffers=2");
    if (!pipeline) return out;
    GRef<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "s"));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    for (;;) {
        GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND);
        if (!sample) break;
        GstBuffer* buf = gst_sample_get_buffer(sample);
        if (buf && GST_BUFFER_PTS(buf) >= at) {
            GstStructure* s = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
            gst_structure_get_int(s, "width", &out.width);
            gst_structure_get_int(s, "height", &out.height);
            GstMapInfo map;
            if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
                out.rgb.assign(reinterpret_cast<const char*>(map.data), map.size);
                gst_buffer_unmap(buf, &map);
                out.ok = true;
            }
            gst_sample_unref(sample);
            break;
        }
        gst_sample_unref(sample);
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return out;
}

}  // namespace consult::test::composing
