// One part, decoded and laid out: each track it has read by its own demuxer (so a track
// that stops early, starts late or pauses never holds the others up), the pictures
// fitted into their boxes on a black canvas, both voices mixed. A black picture and
// silence run the full length of the part underneath, so video and audio both end at
// `length` and the next part starts at the same point on both.
#pragma once

#include "compose_canvas.hpp"
#include "compose_scan.hpp"
#include "hwconfig/gref.hpp"

#include <gst/gst.h>

namespace consult::media::composition {

struct Reader {
    GRef<GstElement> pipeline;
    GstElement* video_out = nullptr;   // appsink of canvas frames, owned by the pipeline
    GstElement* audio_out = nullptr;   // appsink of mixed audio
};

expected<Reader, std::string> build_reader(const PartInfo& part, const Canvas& canvas, GstClockTime length);

// The part's length on the output timeline: its end rounded up to 100 ms, a whole
// number of both video frames (30/s) and 20 ms audio buffers.
GstClockTime part_length(GstClockTime duration);

}  // namespace consult::media::composition
