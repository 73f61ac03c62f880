#include "compose_writer.hpp"

#include "pipelines/builder.hpp"

namespace consult::media::composition {

namespace {

// Appsrc queues: a second of canvas video (the encoder is the slow end), five of audio so
// the muxer's interleaving never waits on audio held behind a full queue.
std::vector<hw::Property> appsrc_props(const char* max_time) {
    return {{"format", "time"}, {"block", "true"}, {"stream-type", "stream"}, {"max-bytes", "0"},
            {"max-buffers", "0"}, {"max-time", max_time}};
}

void set_bitrate(GstElement* enc, const VideoOut& v, unsigned kbps) {
    const std::string value = v.bitrate_value(kbps);
    if (!v.bitrate_property.empty()) {
        gst_util_set_object_arg(G_OBJECT(enc), std::string(v.bitrate_property).c_str(), value.c_str());
    } else if (!v.bitrate_structure.empty()) {
        GstStructurePtr controls(gst_structure_new_empty("controls"));
        gst_structure_set(controls.get(), std::string(v.bitrate_structure).c_str(), G_TYPE_INT, std::stoi(value), nullptr);
        g_object_set(enc, "extra-controls", controls.get(), nullptr);
    }
}

void set_caps(GstElement* el, const std::string& caps) {
    GstCapsPtr c(gst_caps_from_string(caps.c_str()));
    g_object_set(el, "caps", c.get(), nullptr);
}

}  // namespace

expected<Writer, std::string> build_writer(const OutputProfile& profile, const Canvas& canvas, unsigned video_kbps,
                                           OutputFile& out) {
    std::vector<hw::Property> mux_props = profile.muxer_props;
    std::string scratch;
    if (profile.muxer == "mp4mux") {
        // faststart keeps the media in a scratch file until the index is written first;
        // by default in /tmp (often RAM), so it goes beside the output instead.
        auto s = out.scratch();
        if (!s) return unexpected(s.error());
        scratch = *s;
        mux_props.push_back({"faststart-file", scratch});
    }
    const std::string fd = std::to_string(out.fd());
    PipelineBuilder b("compose-writer");
    b.add(profile.muxer, "mux", mux_props, false);
    GstElement* mux = b.last();
    b.add("fdsink", "sink", {{"fd", fd}, {"sync", "false"}});

    const VideoOut& v = profile.video;
    b.add("appsrc", "video_in", appsrc_props("1000000000"), false);
    GstElement* video_in = b.last();
    b.add(v.convert, "video_convert");
    if (v.convert == "videoconvert") b.caps("video/x-raw,format=" + std::string(v.input_format));
    b.add(v.factory, "video_enc", v.props);
    GstElement* enc = b.last();
    if (!v.parser.empty()) b.add(v.parser, "video_parse");
    b.caps(std::string(v.mux_caps));
    GstElement* video_last = b.last();

    const AudioOut& a = profile.audio;
    b.add("appsrc", "audio_in", appsrc_props("5000000000"), false);
    GstElement* audio_in = b.last();
    b.add("audioconvert", "audio_convert").add("audioresample", "audio_resample").add(a.factory, "audio_enc", a.props);
    if (!a.parser.empty()) b.add(a.parser, "audio_parse");
    GstElement* audio_last = b.last();

    auto built = b.build();
    if (!built) return unexpected("output pipeline: " + built.error().describe());
    if (!gst_element_link(video_last, mux)) return unexpected("output pipeline: the video cannot go into " + std::string(profile.muxer));
    if (!gst_element_link(audio_last, mux)) return unexpected("output pipeline: the audio cannot go into " + std::string(profile.muxer));
    set_bitrate(enc, v, video_kbps);
    set_caps(video_in, canvas_caps(canvas));
    set_caps(audio_in, kAudioRawCaps);
    return Writer{*built, video_in, audio_in};
}

}  // namespace consult::media::composition
