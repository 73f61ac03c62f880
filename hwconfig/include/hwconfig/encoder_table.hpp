// Video encoders and decoders as data. Every per-encoder quirk (bitrate unit,
// low-latency settings, how a keyframe is forced) is a field of its row, so the
// pipeline code never asks "which encoder is this?".
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consult::hw {

enum class Codec { H264, VP8 };
enum class BitrateUnit { KilobitsPerSecond, BitsPerSecond };
enum class KeyframeMethod { ForceKeyUnitEvent };

std::string_view codec_name(Codec c);          // "H264" / "VP8" (SDP encoding names)

struct Property { std::string_view name; std::string_view value; };

struct EncoderRow {
    std::string_view factory;
    Codec codec;
    bool hardware;
    int rank;                                 // higher wins
    std::string_view convert;                 // element(s) before the encoder
    std::string_view input_format;            // raw format the encoder wants
    std::vector<Property> low_latency;        // applied with gst_util_set_object_arg
    std::string_view bitrate_property;        // empty: set through bitrate_structure
    BitrateUnit bitrate_unit;
    std::string_view bitrate_structure;       // e.g. v4l2 "extra-controls" field
    std::string_view parser;                  // may be empty
    std::string_view output_caps;             // what browsers accept
    std::string_view payloader;
    std::vector<Property> payloader_props;
    KeyframeMethod keyframe;
    std::string_view quirks;                  // human note shown by `consultctl hw`
    int max_height = 0;                       // encode no taller than this (0: the capture size)

    // The value to write into bitrate_property for a target in kbit/s.
    unsigned bitrate_value(unsigned kbps) const {
        return bitrate_unit == BitrateUnit::KilobitsPerSecond ? kbps : kbps * 1000u;
    }
};

struct DecoderRow {
    std::string_view factory;
    Codec codec;
    bool hardware;
    int rank;
    std::string_view parser;
};

std::span<const EncoderRow> encoder_table();
std::span<const DecoderRow> decoder_table();

// Rows whose element exists in the registry (hardware first, then rank), optionally
// pinned to one factory. `exists` lets tests stand in for the GStreamer registry.
using ElementExists = std::function<bool(std::string_view factory)>;
std::vector<const EncoderRow*> encoders_available(const ElementExists& exists,
                                                  std::string_view pinned = "auto");
std::vector<const DecoderRow*> decoders_available(const ElementExists& exists, Codec codec);

const EncoderRow* find_encoder(std::string_view factory);

// The registry-backed `exists` (needs gst_init).
bool registry_has(std::string_view factory);

}  // namespace consult::hw
