// What crosses the narrow line between media and signalling: SDP text, ICE
// candidates, peer states, stats and events. No JSON, no HTTP.
#pragma once

#include <cstdint>
#include <string>

namespace consult::media {

enum class SdpType { Offer, Answer };

struct PeerStats {
    double rtt_ms = 0;            // from the remote's receiver reports
    double fraction_lost = 0;     // 0..1, remote's view of what we send
    double jitter_ms = 0;
    std::uint64_t packets_lost = 0;
    unsigned send_kbps = 0;       // what we send this peer
    unsigned receive_kbps = 0;    // what the peer sends us
    int width = 0, height = 0;    // of the video we receive
    double fps = 0;
    std::uint64_t frames_decoded = 0;
    unsigned target_kbps = 0;     // the encoder's target after congestion control
    std::uint64_t audio_buffers_decoded = 0;
    double audio_level = 0;       // 0..1, the loudest decoded sample since the last report
};

enum class MediaEvent {
    PeerConnected,
    PeerFailed,
    AudioOnly,        // the link fell below the video floor
    VideoRestored,
    CameraLost,       // the slate is showing
    CameraRestored,
    BranchFailed,     // a bus error ended part of the call; detail says which
    ContentLost,      // the shared second camera failed; sharing stopped
    RemoteDescriptionRefused,   // webrtcbin would not take the remote's answer; detail says why
    VideoRefused,     // the remote's answer turned video down: the call goes on with audio
    NothingUsable,    // the remote's answer turned every section down; detail is for the person
    // Recording (peer ""): Started once every recorded video track has its first keyframe
    // in the file (detail: the file); Stopped once the file is finished and closed (detail:
    // the file); Failed when it ended otherwise (detail: why, for a person). The call goes on.
    RecordingStarted,
    RecordingStopped,
    RecordingFailed,
    // A peer's received audio or video has arrived and can be recorded (detail: "audio" or
    // "video"); a recording that began before it does not hold it.
    TrackArrived,
};

const char* event_name(MediaEvent e);

// Implemented by the appliance's signalling; called on the main loop's thread.
class CallListener {
public:
    virtual ~CallListener() = default;
    virtual void local_description(const std::string& peer, SdpType type, const std::string& sdp) = 0;
    virtual void local_candidate(const std::string& peer, unsigned mline, const std::string& candidate) = 0;
    virtual void peer_state(const std::string& /*peer*/, const std::string& /*state*/) {}
    virtual void stats(const std::string& /*peer*/, const PeerStats& /*stats*/) {}
    virtual void event(const std::string& /*peer*/, MediaEvent /*event*/, const std::string& /*detail*/) {}
};

}  // namespace consult::media
