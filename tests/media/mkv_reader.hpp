// Reads a recording back the two ways a later reader would: GstDiscoverer (what a player
// or the composer sees: tracks, titles, duration) and matroskademux buffer by buffer.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace consult::test {

struct DiscoveredTrack {
    bool video = false;
    std::string title;     // GST_TAG_TITLE of the stream
    std::string caps;
};

struct Discovered {
    bool ok = false;
    std::string error;
    GstClockTime duration = GST_CLOCK_TIME_NONE;
    std::vector<DiscoveredTrack> tracks;
    int count(bool video) const;
    bool has(const std::string& title) const;
};

Discovered discover(const std::filesystem::path& file);

struct DemuxedTrack {
    std::string title;
    std::string caps;
    unsigned buffers = 0;
    bool first_is_keyframe = false;
    GstClockTime first_pts = GST_CLOCK_TIME_NONE, last_pts = GST_CLOCK_TIME_NONE;
};

struct Demuxed {
    bool reached_end = false;   // EOS or an error (a truncated file may end either way)
    std::string error;
    GstClockTime duration = GST_CLOCK_TIME_NONE;  // what the demuxer answers at the end
    std::map<std::string, DemuxedTrack> tracks;   // by demuxer pad name
    GstClockTime last_pts() const;                // the latest timestamp of any track
};

// filesrc ! matroskademux ! fakesink per track, as fast as it reads.
Demuxed demux(const std::filesystem::path& file, std::chrono::seconds limit = std::chrono::seconds(30));

}  // namespace consult::test
