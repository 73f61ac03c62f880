#include "compose_reader.hpp"

#include "hwconfig/c_boundary.hpp"
#include "hwconfig/encoder_table.hpp"
#include "pipelines/builder.hpp"

namespace consult::media::composition {

namespace {

constexpr GstClockTime kGrid = 100 * GST_MSECOND;
constexpr GstClockTime kAudioBuffer = 20 * GST_MSECOND;

// Which demuxer pad a track source links, found again by the name the scan saw.
struct TrackLink {
    std::string pad;
    GstElement* head;   // first element of the decode chain (owned by the pipeline)
    bool linked = false;
};

void on_track_pad(GstElement* demux, GstPad* pad, gpointer p) {
    auto* link = static_cast<TrackLink*>(p);
    at_boundary("compose track pad", [&] {
        if (link->pad != GST_PAD_NAME(pad)) return;   // the part's other tracks: left unlinked
        GRef<GstPad> sink = adopt(gst_element_get_static_pad(link->head, "sink"));
        link->linked = gst_pad_link(pad, sink.get()) == GST_PAD_LINK_OK;
        if (!link->linked) GST_ELEMENT_ERROR(demux, STREAM, FAILED, ("cannot decode track %s", link->pad.c_str()), (nullptr));
    });
}

void on_no_more_pads(GstElement* demux, gpointer p) {
    auto* link = static_cast<TrackLink*>(p);
    if (!link->linked) GST_ELEMENT_ERROR(demux, STREAM, FAILED, ("track %s is gone from the part", link->pad.c_str()), (nullptr));
}

expected<std::string_view, std::string> software_decoder(hw::Codec codec, std::string_view* parser) {
    // Software only: the probe never tried the hardware decoders, and a composition that
    // fails after twenty minutes costs more than a slower one.
    for (const hw::DecoderRow* row : hw::decoders_available(hw::registry_has, codec)) {
        if (row->hardware) continue;
        *parser = row->parser;
        return row->factory;
    }
    return unexpected("no software " + std::string(hw::codec_name(codec)) + " decoder installed");
}

// Links `from` into a new request pad of `aggregator` and returns that pad (borrowed).
GstPad* link_into(GstElement* from, GstElement* aggregator) {
    GRef<GstPad> pad = adopt(gst_element_request_pad_simple(aggregator, "sink_%u"));
    GRef<GstPad> src = adopt(gst_element_get_static_pad(from, "src"));
    if (!pad || !src || gst_pad_link(src.get(), pad.get()) != GST_PAD_LINK_OK) return nullptr;
    return pad.get();   // the aggregator keeps its request pad
}

// The compositor stops on a picture without a time. A decoder hands one on when two
// frames share a time in the file (they reached the recorder within a millisecond, and
// Matroska counts milliseconds) and the stream says nothing of its frame rate, as a
// browser's does: that one frame is dropped, unseen among thirty a second.
GstPadProbeReturn drop_untimed(GstPad*, GstPadProbeInfo* info, gpointer) {
    return GST_BUFFER_PTS_IS_VALID(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

}  // namespace

GstClockTime part_length(GstClockTime duration) { return (duration + kGrid - 1) / kGrid * kGrid; }

expected<Reader, std::string> build_reader(const PartInfo& part, const Canvas& canvas, GstClockTime length) {
    PipelineBuilder b("compose-part");
    b.add("compositor", "canvas", {{"background", "black"}}, false);
    GstElement* compositor = b.last();
    b.caps(canvas_caps(canvas)).add("appsink", "video_out", {{"sync", "false"}, {"enable-last-sample", "false"}});
    GstElement* video_out = b.last();
    b.add("audiomixer", "mix", {}, false);
    GstElement* mixer = b.last();
    b.caps(kAudioRawCaps).add("appsink", "audio_out", {{"sync", "false"}, {"enable-last-sample", "false"}});
    GstElement* audio_out = b.last();

    // Black and silence for the whole part, under the pictures and voices.
    const auto frames = std::to_string(length * kFps / GST_SECOND);
    b.add("videotestsrc", "black", {{"pattern", "black"}, {"num-buffers", frames}}, false).caps(canvas_caps(canvas));
    GstElement* black = b.last();
    b.add("audiotestsrc", "silence",
          {{"wave", "silence"}, {"samplesperbuffer", "960"}, {"num-buffers", std::to_string(length / kAudioBuffer)}}, false)
        .caps(kAudioRawCaps);
    GstElement* silence = b.last();

    struct Branch {
        Role role;
        GstElement* last;   // what goes into the compositor or the mixer
    };
    std::vector<Branch> branches;
    for (Role role : kRoles) {
        const auto& track = part.track(role);
        if (!track) continue;
        const std::string prefix = std::string(role_title(role)) + "_";
        b.add("filesrc", prefix + "file", {{"location", part.path}}, false).add("matroskademux", prefix + "demux");
        GstElement* demux = b.last();
        GstElement* head = nullptr;   // where the demuxer's pad goes
        if (is_video(role)) {
            std::string_view parser;
            auto decoder = software_decoder(track->codec == TrackCodec::H264 ? hw::Codec::H264 : hw::Codec::VP8, &parser);
            if (!decoder) return unexpected(decoder.error());
            if (!parser.empty()) {
                b.add(parser, prefix + "parse", {}, false);
                head = b.last();
            }
            b.add(*decoder, prefix + "dec", {}, head != nullptr);
            if (!head) head = b.last();
            const Box& box = role == Role::RoomVideo ? canvas.room : canvas.patient;
            b.add("videoscale", prefix + "scale", {{"add-borders", "true"}})
                .add("videoconvert", prefix + "convert")
                .caps(video_raw_caps(box.width, box.height));
        } else {
            b.add("opusdec", prefix + "dec", {}, false);
            head = b.last();
            b.add("audioconvert", prefix + "convert").add("audioresample", prefix + "resample").caps(kAudioRawCaps);
        }
        if (b.error()) break;
        auto* link = new TrackLink{track->pad, head};
        g_signal_connect_data(demux, "pad-added", G_CALLBACK(on_track_pad), link,
                              [](gpointer d, GClosure*) { delete static_cast<TrackLink*>(d); }, GConnectFlags(0));
        g_signal_connect(demux, "no-more-pads", G_CALLBACK(on_no_more_pads), link);
        branches.push_back(Branch{role, b.last()});
    }
    auto built = b.build();
    if (!built) return unexpected("part pipeline: " + built.error().describe());

    GstPad* under = link_into(black, compositor);
    if (!under || !link_into(silence, mixer)) return unexpected(std::string("part pipeline: cannot link the black picture or silence"));
    g_object_set(under, "zorder", 0u, nullptr);
    for (const Branch& br : branches) {
        if (!is_video(br.role)) {
            if (!link_into(br.last, mixer)) return unexpected(std::string("part pipeline: cannot mix ") + role_title(br.role));
            continue;
        }
        GstPad* pad = link_into(br.last, compositor);
        if (!pad) return unexpected(std::string("part pipeline: cannot place ") + role_title(br.role));
        GRef<GstPad> out = adopt(gst_element_get_static_pad(br.last, "src"));
        gst_pad_add_probe(out.get(), GST_PAD_PROBE_TYPE_BUFFER, drop_untimed, nullptr, nullptr);
        const Box& box = br.role == Role::RoomVideo ? canvas.room : canvas.patient;
        const guint z = br.role == Role::RoomVideo && canvas.room_on_top ? 2u : 1u;
        g_object_set(pad, "xpos", box.x, "ypos", box.y, "zorder", z, nullptr);
    }
    return Reader{*built, video_out, audio_out};
}

}  // namespace consult::media::composition
