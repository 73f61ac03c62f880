// The one encoding pipeline of a composition: raw canvas video and mixed audio come in
// through two appsrcs (each part's reader pushes into them in turn, on one continuous
// timeline), are encoded once and muxed into the output file's descriptor.
#pragma once

#include "compose_canvas.hpp"
#include "compose_output.hpp"
#include "compose_output_file.hpp"
#include "hwconfig/gref.hpp"

#include <gst/gst.h>

namespace consult::media::composition {

struct Writer {
    GRef<GstElement> pipeline;
    GstElement* video_in = nullptr;   // appsrc, owned by the pipeline
    GstElement* audio_in = nullptr;
};

expected<Writer, std::string> build_writer(const OutputProfile& profile, const Canvas& canvas, unsigned video_kbps,
                                           OutputFile& out);

}  // namespace consult::media::composition
