// Recorded parts made on the spot (test pictures and tones in Matroska, titled as the
// recorder titles them), and ways to look at a composed file: GstDiscoverer, a full
// decode to the end, one decoded frame. Every pipeline here runs under a deadline.
#pragma once

#include "temp_dir.hpp"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace consult::test::composing {

struct PartSpec {
    double seconds = 6;
    bool room_video = true, patient_video = true, room_audio = true, patient_audio = true;
    const char* room_codec = "h264";      // or "vp8"
    const char* patient_codec = "vp8";   // or "h264", or "openh264" (as Chromium sends it)
    const char* room_pattern = "smpte";   // videotestsrc patterns
    const char* patient_pattern = "ball";
    // The patient's picture from this second, for this long (a camera turned on late,
    // a patient who left early); by default the whole part.
    double patient_video_from = 0, patient_video_seconds = -1;
    // Every tenth patient frame written within the same millisecond as the one before (two
    // frames that reached the recorder together): Matroska's millisecond timestamps make
    // them equal in the file.
    bool patient_twin_frames = false;
};

// Writes a finished part (EOS: cues, duration, tags).
std::string make_part(const TempDir& dir, const std::string& name, const PartSpec& spec);
// A part as a crash leaves it: live sources stopped after `seconds` without EOS, so the
// muxer never writes cues, duration or its closing Tags element.
std::string make_crashed_part(const TempDir& dir, const std::string& name, PartSpec spec);
// Cuts the last `fraction` of a file off.
void cut_tail(const std::string& path, double fraction);

// The latest buffer end over a Matroska file's tracks (what a part lasts).
GstClockTime media_end(const std::string& path);

struct Discovered {
    bool ok = false;
    std::string error;
    unsigned video_streams = 0, audio_streams = 0;
    int width = 0, height = 0;
    GstClockTime duration = GST_CLOCK_TIME_NONE;
};
Discovered discover(const std::string& path);

struct Decoded {
    bool reached_eos = false;
    std::string error;
    GstClockTime last_video_end = 0, last_audio_end = 0;
    std::uint64_t video_frames = 0;
};
// Decodes the whole file (decodebin ! fakesink for each stream).
Decoded decode_to_end(const std::string& path);

struct Rgb {
    int r = 0, g = 0, b = 0;
};
// The picture at `at` (the first frame at or after it), sampled at (x, y).
struct Frame {
    bool ok = false;
    int width = 0, height = 0;
    std::string rgb;   // packed RGB rows
    Rgb at(int x, int y) const;
};
Frame frame_at(const std::string& path, GstClockTime at);

inline double seconds(GstClockTime t) { return double(t) / double(GST_SECOND); }

}  // namespace consult::test::composing
