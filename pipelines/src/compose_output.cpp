#include "compose_output.hpp"

#include <algorithm>

namespace consult::media::composition {

namespace {

using hw::BitrateUnit;

constexpr std::string_view kH264MuxCaps = "video/x-h264,stream-format=avc,alignment=au";

// Software encoders for a file, not a call: two threads (the box has two cores and
// nothing else runs while composing), a keyframe every 2 s, so a player seeks to within 2 s of where it is asked.
const std::vector<VideoOut> kSoftwareVideo{
    // The realtime deadline at its fastest: 1280x360 at ~200 frames/s on one core of
    // this class of box, twice cpu-used=8, at the same size for the same bitrate;
    // lag 0 keeps memory flat.
    {"vp8enc", "vp8", "videoconvert", "I420",
     {{"deadline", "1"}, {"cpu-used", "16"}, {"threads", "2"}, {"end-usage", "vbr"}, {"lag-in-frames", "0"},
      {"keyframe-max-dist", "60"}, {"token-partitions", "1"}},
     "target-bitrate", BitrateUnit::BitsPerSecond, "", "", "video/x-vp8"},
    {"x264enc", "h264", "videoconvert", "I420",
     {{"speed-preset", "veryfast"}, {"threads", "2"}, {"key-int-max", "300"}, {"bframes", "0"}},
     "bitrate", BitrateUnit::KilobitsPerSecond, "", "h264parse", kH264MuxCaps},
    {"openh264enc", "h264", "videoconvert", "I420",
     {{"rate-control", "bitrate"}, {"gop-size", "300"}, {"multi-thread", "2"}},
     "bitrate", BitrateUnit::BitsPerSecond, "", "h264parse", kH264MuxCaps},
};

// AAC for MP4 where an encoder is installed (avenc_aac comes with gstreamer1.0-libav);
// Opus in MP4 plays in browsers but not in every desktop player.
const std::vector<AudioOut> kAacEncoders{
    {"avenc_aac", "aac", {{"bitrate", "96000"}}, "aacparse"},
    {"fdkaacenc", "aac", {{"bitrate", "96000"}}, "aacparse"},
    {"voaacenc", "aac", {{"bitrate", "96000"}}, "aacparse"},
};
const AudioOut kOpus{"opusenc", "opus", {{"bitrate", "64000"}}, ""};

const VideoOut* software(std::string_view factory) {
    for (const auto& v : kSoftwareVideo)
        if (v.factory == factory) return &v;
    return nullptr;
}

// A hardware H.264 row as the probe tested it, its bitrate applied the row's way.
VideoOut from_hardware(const hw::EncoderRow& row) {
    return VideoOut{row.factory, "h264", row.convert, row.input_format, row.low_latency,
                    row.bitrate_property, row.bitrate_unit, row.bitrate_structure,
                    row.parser.empty() ? "h264parse" : row.parser, kH264MuxCaps};
}

OutputProfile webm() {
    return OutputProfile{"webm", "webmmux", {}, *software("vp8enc"), kOpus, {}};
}

expected<OutputProfile, std::string> mp4(const hw::EncoderRow* row, const hw::ElementExists& exists) {
    OutputProfile p{"mp4", "mp4mux", {{"faststart", "true"}}, {}, kOpus, {}};
    if (row && row->codec == hw::Codec::H264 && exists(row->factory)) {
        p.video = row->hardware ? from_hardware(*row) : *software(row->factory);
    } else {
        const VideoOut* sw = nullptr;
        for (std::string_view f : {"x264enc", "openh264enc"})
            if (!sw && exists(f)) sw = software(f);
        if (!sw) return unexpected(std::string("no H.264 encoder for MP4 (x264enc or openh264enc)"));
        p.video = *sw;
    }
    const auto aac = std::find_if(kAacEncoders.begin(), kAacEncoders.end(), [&](const AudioOut& a) {
        return exists(a.factory) && (a.parser.empty() || exists(a.parser));
    });
    if (aac != kAacEncoders.end()) p.audio = *aac;
    else p.notes.push_back("no AAC encoder installed: the MP4 carries Opus");
    return p;
}

}  // namespace

unsigned video_kbps(int width, int height) {
    return unsigned(1200.0 * double(width) * double(height) / (1280.0 * 360.0));
}

expected<OutputProfile, std::string> choose_output(std::string_view encoder, ComposeContainer container,
                                                   const hw::ElementExists& exists) {
    const bool chosen = !encoder.empty() && encoder != "auto";
    const hw::EncoderRow* row = chosen ? hw::find_encoder(encoder) : nullptr;
    if (chosen && !row) return unexpected("unknown encoder '" + std::string(encoder) + "'");

    expected<OutputProfile, std::string> out = unexpected(std::string());
    switch (container) {
    case ComposeContainer::WebM:
        out = webm();
        break;
    case ComposeContainer::Mp4:
        out = mp4(row, exists);
        break;
    case ComposeContainer::Auto:
        if (row && row->hardware && row->codec == hw::Codec::H264 && exists(row->factory)) {
            out = mp4(row, exists);
        } else {
            out = webm();
            if (row && row->hardware && row->codec == hw::Codec::H264)
                out->notes.push_back(std::string(row->factory) + " is not installed: VP8 in WebM");
        }
        break;
    }
    if (!out) return out;
    for (std::string_view f : {out->muxer, out->video.factory, out->audio.factory})
        if (!exists(f)) return unexpected(std::string(f) + " is not installed");
    return out;
}

}  // namespace consult::media::composition
