#include "hwconfig/encoder_table.hpp"

#include "hwconfig/gref.hpp"

#include <algorithm>
#include <string>

namespace consult::hw {

namespace {

// Constrained baseline: every browser decodes it, and it has no B-frames.
constexpr std::string_view kH264Caps =
    "video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au";
constexpr std::string_view kVp8Caps = "video/x-vp8";

const std::vector<Property> kH264Pay{{"config-interval", "-1"}, {"aggregate-mode", "zero-latency"}};
const std::vector<Property> kVp8Pay{{"picture-id-mode", "15-bit"}};

const std::vector<EncoderRow> kEncoders{
    {"vah264enc", Codec::H264, true, 300, "vapostproc", "NV12",
     {{"rate-control", "cbr"}, {"b-frames", "0"}, {"key-int-max", "1024"}, {"target-usage", "7"}},
     "bitrate", BitrateUnit::KilobitsPerSecond, "", "h264parse", kH264Caps, "rtph264pay", kH264Pay,
     KeyframeMethod::ForceKeyUnitEvent, "VA (new driver); needs /dev/dri render node"},
    {"vaapih264enc", Codec::H264, true, 290, "vaapipostproc", "NV12",
     {{"rate-control", "cbr"}, {"max-bframes", "0"}, {"keyframe-period", "0"}, {"tune", "low-power"}},
     "bitrate", BitrateUnit::KilobitsPerSecond, "", "h264parse", kH264Caps, "rtph264pay", kH264Pay,
     KeyframeMethod::ForceKeyUnitEvent, "legacy VA-API plugin; tune=low-power not on every GPU"},
    {"v4l2h264enc", Codec::H264, true, 280, "videoconvert", "NV12",
     {},
     "", BitrateUnit::BitsPerSecond, "video_bitrate", "h264parse", kH264Caps, "rtph264pay", kH264Pay,
     KeyframeMethod::ForceKeyUnitEvent,
     "V4L2 M2M; bitrate only through extra-controls (bit/s); level must be in caps on some SoCs"},
    {"x264enc", Codec::H264, false, 200, "videoconvert", "I420",
     {{"tune", "zerolatency"}, {"speed-preset", "ultrafast"}, {"bframes", "0"},
      {"key-int-max", "1024"}, {"threads", "2"}},
     "bitrate", BitrateUnit::KilobitsPerSecond, "", "h264parse", kH264Caps, "rtph264pay", kH264Pay,
     KeyframeMethod::ForceKeyUnitEvent, "software; ultrafast + zerolatency keeps one 720p30 call under a core"},
    {"openh264enc", Codec::H264, false, 190, "videoconvert", "I420",
     {{"complexity", "low"}, {"rate-control", "bitrate"}, {"gop-size", "1024"}, {"usage-type", "camera"}},
     "bitrate", BitrateUnit::BitsPerSecond, "", "h264parse", kH264Caps, "rtph264pay", kH264Pay,
     KeyframeMethod::ForceKeyUnitEvent, "software; bitrate in bit/s"},
    // The path of every browser without H.264 (Firefox without OpenH264). Real time only
    // with deadline=1 and the fastest cpu-used; static-threshold skips the still
    // background of a consult room. One thread: libvpx's second thread spins waiting on
    // the first (0.16 of a core more for the same frames). Kept at 540 lines: while only
    // VP8 screens are in a call the camera captures that size itself (Call::fit_capture),
    // since scaling 720p down costs as much as the smaller picture saves
    // (tests/bench/README.md).
    {"vp8enc", Codec::VP8, false, 100, "videoconvert", "I420",
     {{"deadline", "1"}, {"cpu-used", "16"}, {"end-usage", "cbr"}, {"lag-in-frames", "0"},
      {"error-resilient", "partitions"}, {"keyframe-max-dist", "3000"}, {"threads", "1"},
      {"token-partitions", "2"}, {"static-threshold", "100"}},
     "target-bitrate", BitrateUnit::BitsPerSecond, "", "", kVp8Caps, "rtpvp8pay", kVp8Pay,
     KeyframeMethod::ForceKeyUnitEvent, "software fallback for browsers without H.264; one thread, at most 540 lines", 540},
};

const std::vector<DecoderRow> kDecoders{
    {"vah264dec", Codec::H264, true, 300, "h264parse"},
    {"vaapih264dec", Codec::H264, true, 290, "h264parse"},
    {"v4l2h264dec", Codec::H264, true, 280, "h264parse"},
    {"avdec_h264", Codec::H264, false, 200, "h264parse"},
    {"openh264dec", Codec::H264, false, 190, "h264parse"},
    {"vavp8dec", Codec::VP8, true, 300, ""},
    {"vp8dec", Codec::VP8, false, 100, ""},
};

template <typename Row>
bool ranks_before(const Row* a, const Row* b) {
    if (a->hardware != b->hardware) return a->hardware;
    return a->rank > b->rank;
}

}  // namespace

std::string_view codec_name(Codec c) { return c == Codec::H264 ? "H264" : "VP8"; }

std::span<const EncoderRow> encoder_table() { return kEncoders; }
std::span<const DecoderRow> decoder_table() { return kDecoders; }

const EncoderRow* find_encoder(std::string_view factory) {
    for (const auto& row : kEncoders)
        if (row.factory == factory) return &row;
    return nullptr;
}

std::vector<const EncoderRow*> encoders_available(const ElementExists& exists, std::string_view pinned) {
    std::vector<const EncoderRow*> out;
    for (const auto& row : kEncoders) {
        if (pinned != "auto" && row.factory != pinned) continue;
        if (exists(row.factory)) out.push_back(&row);
    }
    std::stable_sort(out.begin(), out.end(), ranks_before<EncoderRow>);
    return out;
}

std::vector<const DecoderRow*> decoders_available(const ElementExists& exists, Codec codec) {
    std::vector<const DecoderRow*> out;
    for (const auto& row : kDecoders)
        if (row.codec == codec && exists(row.factory)) out.push_back(&row);
    std::stable_sort(out.begin(), out.end(), ranks_before<DecoderRow>);
    return out;
}

bool registry_has(std::string_view factory) {
    return bool(adopt(gst_element_factory_find(std::string(factory).c_str())));
}

}  // namespace consult::hw
