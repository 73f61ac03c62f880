// One call: the room's camera and microphone encoded once, fanned out to one
// webrtcbin per remote screen. The Call owns its pipeline and peers and tears them
// down together. Every listener callback arrives on the thread running the GLib
// main context the Call was created on.
#pragma once

#include "hwconfig/gref.hpp"
#include "hwconfig/probe.hpp"
#include "pipelines/builder.hpp"
#include "pipelines/congestion.hpp"
#include "pipelines/media_types.hpp"

#include "hwconfig/expected.hpp"
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace consult::media {

struct CallSettings {
    const hw::EncoderRow* encoder = nullptr;       // required: what the probe chose
    // Working encoders of other codecs, best first: offered beside the main one
    // (VP8 for browsers without H.264) and started only while a peer uses one.
    std::vector<const hw::EncoderRow*> fallbacks;
    hw::SourceChoice camera;                       // test_source → videotestsrc
    hw::SourceChoice microphone;
    hw::SourceChoice speaker;                      // "none" → far-end audio is discarded
    hw::SourceChoice content;                      // the second camera ("none": nothing to share)
    int width = 1280, height = 720, fps = 30;
    CongestionLimits bitrate;
    bool echo_cancel = true;                       // off for speakerphones with their own AEC
    std::string stun_server;                       // stun://host:port, may be empty
    std::vector<std::string> turn_servers;         // turn(s)://user:pass@host:port
    std::filesystem::path dot_dir;                 // where DOT graphs go on errors
    unsigned stats_interval_ms = 2000;
    unsigned latency_ms = 200;
};

struct PeerOptions {
    std::string id;
    bool send_video = true;
    bool send_audio = true;
    bool play_audio = false;                       // the peer's audio goes to the room speaker
    bool adapt_bitrate = false;                    // this peer's link steers the encoder
    std::vector<std::string> local_addresses;      // added to the ICE agent (e.g. 127.0.0.1)
    // Another peer whose video this one also receives, as it came (no decode, no
    // re-encode): the kiosk shows the patient this way.
    std::optional<std::string> forward_from;
};

// A recording of the running call: one Matroska file. Its tracks are named "room-video",
// "room-audio", "patient-video" and "patient-audio" (the contract is in recorder.hpp).
struct RecordingOptions {
    std::filesystem::path file;              // .mkv; created here with mode 0600, never overwritten
    std::optional<std::string> patient;      // the peer whose incoming video and audio are recorded
    bool include_patient = true;             // false: only the room's tracks
};

class Peer;
class CameraSwitch;
class EncoderBranch;
class Recorder;
struct RecorderTrack;

class Call {
public:
    static expected<std::unique_ptr<Call>, BuildError> create(const CallSettings& settings, CallListener& listener);
    ~Call();
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

    // Adds a peer to the running call; the offer arrives through the listener.
    expected<void, BuildError> add_peer(const PeerOptions& options);
    void remove_peer(const std::string& id);
    bool has_peer(const std::string& id) const;
    // What each m-line of this peer's offers carries, in order ("room", "room-audio",
    // "content", "patient"), so a screen knows which stream is which.
    std::vector<std::string> streams(const std::string& peer) const;

    expected<void, std::string> set_remote_description(const std::string& peer, SdpType type,
                                                            const std::string& sdp);
    void add_remote_candidate(const std::string& peer, unsigned mline, const std::string& candidate);
    // An offer to `peer` went out and no answer has been taken for it yet.
    bool awaiting_answer(const std::string& peer) const;

    void force_keyframe();
    // The bitrate of every running video encoder (the link of the adapting peer).
    void set_video_bitrate(unsigned kbps);
    // The codecs offered for the room camera, in order of preference: one already being
    // encoded for another screen first (a browser that takes either then shares that
    // encoder), then the encoders' ranking.
    std::vector<hw::Codec> video_codecs() const;
    // Encoders running now (one per codec in use), for tests and benchmarks.
    std::vector<std::string> running_encoders() const;
    unsigned video_bitrate() const { return bitrate_kbps_; }
    // Upstream keyframe requests that reached the encoder / were held back (≥ 500 ms apart).
    unsigned keyframes_forwarded() const;
    unsigned keyframes_suppressed() const;
    bool showing_slate() const;
    // The doctor's controls: the room microphone sends silence; the camera's picture
    // is replaced by a "camera off" slate. Neither renegotiates.
    void set_microphone_muted(bool muted);
    void set_camera_off(bool off);
    bool microphone_muted() const { return mic_muted_; }
    bool camera_off() const;
    int capture_height() const;   // what the room camera gives now (see fit_capture)
    // The second camera (intra-oral, HDMI capture) as a second video stream to every
    // peer that gets the room camera. The first share builds it and renegotiates;
    // later ones only open and close a valve. Refused when there is none.
    expected<void, BuildError> set_content_shared(bool on);
    bool content_shared() const { return content_on_; }
    bool content_available() const;

    // Records the room's encoded camera and microphone and, when given, the patient's
    // streams as they arrived. Refused while a recording runs (or is being finished).
    // RecordingStarted follows once every video track has its first keyframe in the file.
    expected<void, BuildError> start_recording(const RecordingOptions& options);
    // Finishes the file asynchronously: RecordingStopped once it is closed (RecordingFailed
    // if it could not be finished within 5 s). A recording never stops the call: its
    // errors end only the recording, with RecordingFailed.
    void stop_recording();
    bool recording() const { return recorder_ != nullptr; }
    // Whether the call receives a track from `peer` that the running recording does not
    // hold (it arrived after the recording began, or the peer came back since).
    bool recording_misses(const std::string& peer) const;
    std::uint64_t recorded_bytes() const;   // the file's size now (of the last recording once stopped)

    GstElement* pipeline() const { return pipeline_.get(); }
    const CallSettings& settings() const { return settings_; }

private:
    Call(const CallSettings& settings, CallListener& listener);
    expected<void, BuildError> build();
    static gboolean on_bus(GstBus*, GstMessage*, gpointer self);
    void on_error(GstMessage* msg);
    void dump_dot(const std::string& reason);
    void poll_stats();
    void apply_stats(const std::string& peer, const GstStructure* stats);
    expected<void, BuildError> build_audio();
    // A peer's incoming video is ready to be forwarded from the tee named `tee`.
    void on_incoming_video(const std::string& peer, const std::string& tee, hw::Codec codec);
    void link_forwards(const std::string& source);
    // A peer's incoming Opus (before decoding) is ready in the tee named `tee`.
    void on_incoming_audio(const std::string& peer, const std::string& tee);
    expected<std::vector<RecorderTrack>, BuildError> recording_tracks(const RecordingOptions& options);
    void recording_ended();
    void on_recording_error(GstMessage* msg);
    void finish_recording_for_teardown();

    friend class Peer;
    CallSettings settings_;
    CallListener& listener_;
    GRef<GstElement> pipeline_;
    // Raw video (the room camera, the content camera) and, per codec in use, its
    // encoder branch (encoder_branch.hpp).
    struct VideoSource {
        explicit VideoSource(std::string p, unsigned min = 0);
        ~VideoSource();
        std::string prefix;
        GstElement* raw = nullptr;   // a tee, owned by the pipeline
        std::map<hw::Codec, std::unique_ptr<EncoderBranch>> branches;
        unsigned min_kbps = 0;
    };
    VideoSource room_{"venc_"}, content_{"content_enc_", 300};
    // The branch of `source` encoding `codec`, started if needed; null when no encoder can.
    EncoderBranch* branch_for(VideoSource& source, hw::Codec codec);
    // A peer stopped using it; then prune_branches.
    void release_branch(VideoSource& source, hw::Codec codec);
    // Stops every encoder no screen takes. While no screen takes any, the room keeps one
    // warm (the main codec's when it runs), so a screen coming back starts at once.
    void prune_branches(VideoSource& source);
    // The camera captures no larger than the screens take: while every screen's codec is
    // kept below the capture size (software VP8), the camera gives that size itself.
    void fit_capture();
    GstElement* audio_tee_ = nullptr;
    GstElement* farend_mixer_ = nullptr;
    std::unique_ptr<CameraSwitch> camera_;
    std::map<std::string, std::unique_ptr<Peer>> peers_;
    std::optional<BitrateController> controller_;
    std::map<std::string, std::pair<std::string, hw::Codec>> incoming_video_;   // peer → (tee name, codec)
    std::map<std::string, std::string> incoming_audio_;                        // peer → tee name (Opus)
    std::shared_ptr<Recorder> recorder_;
    std::optional<hw::Codec> recorded_codec_;   // the room branch the recorder keeps running
    std::filesystem::path recorded_file_;
    unsigned bitrate_kbps_ = 0;
    bool mic_muted_ = false;
    expected<void, BuildError> build_content();
    GstElement* content_valve_ = nullptr;
    bool content_on_ = false;
    guint bus_watch_ = 0;
    guint stats_timer_ = 0;
    guint restore_timer_ = 0;
    GMainContext* context_ = nullptr;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Loads the plugins a call uses (webrtcbin and its ICE, DTLS/SRTP and RTP elements, the
// audio codec, the payloaders and depayloaders of both video codecs) and makes the
// process's DTLS certificate, by making one of each element and dropping it. Meant for a
// worker thread at start-up: otherwise the first call does it on the main loop. A missing
// element is skipped (the probe names what is missing; the call says so when it needs it).
void load_call_plugins();

}  // namespace consult::media
