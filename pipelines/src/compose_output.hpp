// What the composition is written as: container, video and audio encoders, as data.
// Offline settings (no lookahead limits of a live call, a keyframe every 10 s for
// seeking in review) live here beside the rows; a hardware encoder keeps the settings
// its hw::EncoderRow was tested with by the probe.
#pragma once

#include "hwconfig/encoder_table.hpp"
#include "hwconfig/expected.hpp"
#include "pipelines/compose.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace consult::media::composition {

struct VideoOut {
    std::string_view factory;
    std::string_view codec;            // "h264" | "vp8"
    std::string_view convert;          // element before the encoder
    std::string_view input_format;     // raw format the encoder takes
    std::vector<hw::Property> props;
    std::string_view bitrate_property; // empty: set through bitrate_structure
    hw::BitrateUnit bitrate_unit;
    std::string_view bitrate_structure;
    std::string_view parser;           // may be empty
    std::string_view mux_caps;         // what goes into the muxer

    std::string bitrate_value(unsigned kbps) const {
        return std::to_string(bitrate_unit == hw::BitrateUnit::KilobitsPerSecond ? kbps : kbps * 1000u);
    }
};

struct AudioOut {
    std::string_view factory;
    std::string_view codec;            // "aac" | "opus"
    std::vector<hw::Property> props;
    std::string_view parser;
};

struct OutputProfile {
    std::string_view container;        // "mp4" | "webm"
    std::string_view muxer;
    std::vector<hw::Property> muxer_props;
    VideoOut video;
    AudioOut audio;
    std::vector<std::string> notes;    // a fallback taken, and why
};

// `encoder` is the probe's choice ("auto"/empty: none). Auto: MP4 only with a hardware
// H.264 encoder, else WebM with VP8. `exists` stands in for the registry in tests.
expected<OutputProfile, std::string> choose_output(std::string_view encoder, ComposeContainer container,
                                                   const hw::ElementExists& exists);

// Video bitrate for a canvas: 1200 kbit/s for 1280x360, by area.
unsigned video_kbps(int width, int height);

}  // namespace consult::media::composition
