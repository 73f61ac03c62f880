// Records a running call into one Matroska file, from the call's own encoded streams
// (no decode, no re-encode), without ever holding the call up.
//
// The file's contract (a later composer finds the tracks by these names; do not change
// them): every track carries a title, written as the Matroska track Name (with Language
// "und", so matroskademux reports it as GST_TAG_TITLE even from a file cut short):
//   "room-video"     the room camera, as encoded for the call (H.264 avc, or VP8)
//   "room-audio"     the room microphone, Opus as sent to the peers
//   "patient-video"  the patient's video as it arrived (H.264 avc, or VP8)
//   "patient-audio"  the patient's audio as it arrived (Opus)
// Only the tracks that exist when the recording starts are in the file. Every video track
// starts on a keyframe (and starts again on one after its queue had to drop frames);
// timestamps start at 0 and all tracks share one timeline (the call's running time).
//
// The file is written as it goes (clusters of ≤ 1 s): after a crash or `kill -9` it plays
// up to its last second or so; stop() adds the duration and the index.
//
// How it hangs off the call: each track takes an extra pad of one of the call's tees. That
// pad stays unlinked; a probe on it hands each buffer to the recorder's leaky queue and
// ignores the answer, so nothing the recorder does (an error, EOS, a full disk, a blocked
// muxer, a query) ever travels back into the call. See Track::forward. The muxer writes
// only while every open track has data: a track that falls silent (a browser stops sending
// video) holds the file back, and the leaky queues keep just its last two seconds.
#pragma once

#include "pipelines/builder.hpp"

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace consult::media {

enum class TrackFormat { H264, VP8, Opus };

struct RecorderTrack {
    std::string title;                        // one of the names above
    GstElement* tee = nullptr;                // the call's tee it is taken from (the pipeline owns it)
    TrackFormat format = TrackFormat::Opus;
    std::string peer;                         // the peer it comes from; "" for the room
    // Video: asks the source for a keyframe (main thread). Unset: an upstream
    // force-key-unit event from the tee (webrtcbin turns it into a PLI).
    std::function<void()> request_keyframe;
};

// What the recorder tells its owner, always on the main loop.
struct RecorderEvents {
    std::function<void(const std::string& file)> started;
    std::function<void(const std::string& file)> stopped;
    std::function<void(const std::string& why)> failed;
};

class Recorder : public std::enable_shared_from_this<Recorder> {
public:
    // Creates `file` (mode 0600, refused if it exists) and starts recording `tracks` into it.
    static expected<std::shared_ptr<Recorder>, BuildError> start(GstBin* bin, const std::filesystem::path& file,
                                                                 std::vector<RecorderTrack> tracks,
                                                                 RecorderEvents events);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // EOS into every track; once it reaches the file the elements go and `stopped` is
    // told. After kStopTimeoutMs they go anyway and `failed` is told.
    void stop();
    // `peer` left the call: its tracks end (EOS), the others go on.
    void end_tracks_of(const std::string& peer);
    // A bus error from one of the recorder's elements: everything goes, `failed` is told.
    void fail(const std::string& why);
    // The call is going away with its pipeline: EOS into every track, then `release`
    // (which stops the pipeline, holding `keep_alive` until it has) once the file is
    // finished, or after kStopTimeoutMs. Nothing is told: the owner is gone.
    void finish_with(std::function<void(std::shared_ptr<void> keep_alive)> release);

    bool owns(GstObject* element) const;
    // Any recorder's element, this one's or an earlier one's (whose late errors are moot).
    static bool is_recorder_element(GstObject* element);
    const std::filesystem::path& file() const { return file_; }
    std::uint64_t bytes() const;
    bool records(const std::string& peer, bool video) const;   // that peer's video or audio, still flowing in

    static constexpr unsigned kStopTimeoutMs = 5000;

private:
    struct Track;   // one track's state, shared with the streaming thread (recorder.cpp)
    Recorder(GstBin* bin, std::filesystem::path file, RecorderEvents events);
    expected<void, BuildError> build(std::vector<RecorderTrack> tracks);
    expected<void, BuildError> build_track(const RecorderTrack& spec, unsigned index);
    void attach_tracks();
    void end_track(Track& track, bool eos);
    bool every_video_started() const;
    void ask_for_keyframes();
    void on_file_eos();        // streaming thread
    // Takes every element out of the call (they stop on a worker thread, which closes the
    // file); then `stopped` (ok) or `failed` (why) is told on the main loop.
    void remove_elements(bool ok, const std::string& why);
    void done(bool ok, const std::string& why);

    GstBin* bin_;                       // the call's pipeline; used only while the call owns this recorder
    std::filesystem::path file_;
    RecorderEvents events_;
    std::string prefix_;                // "rec<n>_": every element's name starts with it
    GstElement* mux_ = nullptr;         // owned by the bin
    GstElement* sink_ = nullptr;
    std::vector<std::shared_ptr<Track>> tracks_;
    std::atomic<bool> started_{false};
    bool stopping_ = false, removed_ = false, finished_ = false;
    std::mutex release_lock_;
    std::function<void()> release_;     // finish_with: what to run once the file is done
    guint keyframe_timer_ = 0, stop_timer_ = 0;
    GMainContext* context_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::media
