// The composition after a call: the recorded Matroska parts, in order, decoded and laid
// out on one canvas (room and patient pictures), both voices mixed, encoded once into a
// single playable file for review and hand-over. Never during a call: it is as fast as
// the CPU allows, non-live, and the caller runs it at the lowest priority.
#pragma once

#include "hwconfig/expected.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace consult::media {

// The track titles (GST_TAG_TITLE, Matroska TrackName) a recorded part carries.
inline constexpr std::string_view kRoomVideo = "room-video";
inline constexpr std::string_view kRoomAudio = "room-audio";
inline constexpr std::string_view kPatientVideo = "patient-video";
inline constexpr std::string_view kPatientAudio = "patient-audio";

enum class ComposeLayout {
    SideBySide,        // 1280x360: room left, patient right, each fitted into its half on black
    PictureInPicture,  // 1280x720: the patient fills the canvas, the room in a corner
};
enum class ComposeContainer {
    Auto,  // MP4 (H.264 + AAC) with a hardware H.264 encoder, else WebM (VP8 + Opus)
    Mp4,   // MP4 even without hardware: a software H.264 encoder (files for players without WebM)
    WebM,
};

struct ComposeJob {
    std::vector<std::string> parts;   // Matroska part files, in recording order
    std::string output;               // must not exist yet; appears only when complete (mode 0600)
    ComposeLayout layout = ComposeLayout::SideBySide;
    // The hardware probe's encoder choice (hw::ProbeResult::encoder->factory); "auto" or
    // empty: no tested hardware encoder, so VP8.
    std::string encoder = "auto";
    ComposeContainer container = ComposeContainer::Auto;
    // No output progress (time composed, bytes written) for this long: the job fails.
    // Counted in ticks of the job's own loop, so a SIGSTOP of the process does not count.
    std::chrono::milliseconds stall_timeout{30000};
    // Set (from any thread or a signal handler) to stop: the job fails with "cancelled".
    const std::atomic<bool>* cancel = nullptr;
};

struct ComposeResult {
    std::string output;
    std::chrono::milliseconds duration{0};
    std::uint64_t size_bytes = 0;
    std::string container;     // "webm" | "mp4"
    std::string video_codec;   // "vp8" | "h264"
    std::string audio_codec;   // "opus" | "aac"
    std::string video_encoder; // the factory used
    std::vector<std::string> notes;   // what was left out and why (a skipped part, an unknown track)
};

// Called with 0..1 about every 500 ms from the thread running compose().
using ProgressFn = std::function<void(double)>;

// Runs the whole composition on the calling thread (it runs its own GLib main context;
// needs gst_init). A part that cannot be read is skipped with a note while others can be;
// a part that fails while it is composed ends there, with a note, and the next follows on.
// With nothing composed, or on any encoding or writing failure, the error says which part
// or element failed and nothing is left at `output`.
expected<ComposeResult, std::string> compose(const ComposeJob& job, ProgressFn progress);

// What a recorded part holds, as the composition would read it: each of the four known
// tracks found (by its title: room-video, patient-video, room-audio, patient-audio) with
// where it ends, and notes on tracks it would leave out. For clinic IT and the tests.
struct PartTrack {
    std::string title;
    std::chrono::milliseconds end{0};
};
struct PartSummary {
    std::vector<PartTrack> tracks;
    std::vector<std::string> notes;
};
expected<PartSummary, std::string> describe_part(const std::string& path);

std::optional<ComposeLayout> parse_layout(std::string_view name);        // side-by-side | pip
std::optional<ComposeContainer> parse_container(std::string_view name);  // auto | mp4 | webm

}  // namespace consult::media
