// One remote screen: a webrtcbin, the payloaders that feed it from the call's tees,
// and whatever it sends us (decoded, and its audio to the room speaker).
#pragma once

#include "pipelines/call.hpp"
#include "pipelines/sdp_check.hpp"

#include <gst/gst.h>

#include <atomic>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace consult::media {

class Peer {
public:
    Peer(Call& call, PeerOptions options);
    ~Peer();

    expected<void, BuildError> build();
    // Sends `source`'s incoming video (from its forwarding tee) to this peer as well.
    expected<void, BuildError> link_forward(GstElement* tee, hw::Codec codec);
    // A video stream of the room camera, or of the shared content camera (renegotiates):
    // offered in every codec the call can encode; linked to the encoder of the codec the
    // answer picks once webrtcbin has taken the answer.
    expected<void, BuildError> add_video_sender(bool content);
    bool forwarding() const { return forwarding_; }
    // Unlinks from the tees and removes every element of this peer (main thread); the
    // elements stop on a worker thread, `keep_alive` (this Peer) is released after.
    void teardown(std::shared_ptr<void> keep_alive);

    // Checks an answer against the last offer, then hands it to webrtcbin; webrtcbin's
    // own refusal arrives later as MediaEvent::RemoteDescriptionRefused.
    expected<void, std::string> set_remote_description(SdpType type, const std::string& sdp);
    void remote_description_applied(SdpType type);
    bool awaiting_answer() const { return offer_pending_ && !last_offer_.empty(); }
    void add_remote_candidate(unsigned mline, const std::string& candidate);
    void request_stats();
    void set_video_enabled(bool on);

    const PeerOptions& options() const { return options_; }
    GstElement* webrtc() const { return webrtc_; }
    bool video_enabled() const { return video_enabled_; }
    // What each of this peer's m-lines carries, in order: "room", "room-audio",
    // "content", "patient" (forwarded).
    const std::vector<std::string>& streams() const { return streams_; }

    // Filled from the streaming threads.
    std::atomic<std::uint64_t> frames_decoded{0};
    std::atomic<int> width{0}, height{0};
    std::atomic<std::uint64_t> audio_buffers_decoded{0};
    std::atomic<int> audio_peak{0};          // loudest decoded sample since the last stats poll (0..32767)
    std::uint64_t last_bytes_sent = 0, last_bytes_received = 0, last_frames = 0;
    gint64 last_stats_us = 0;

private:
    static void on_negotiation_needed(GstElement*, gpointer self);
    void on_description_created(GstPromise* promise, SdpType type);
    // One offer at a time, made on the main loop once every pad is linked.
    void negotiate();
    bool needs_new_offer() const;
    void offer_new_streams();          // soon, on the main loop, if a stream was added
    static void on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer self);
    static void on_pad_added(GstElement*, GstPad* pad, gpointer self);
    static void on_connection_state(GObject*, GParamSpec*, gpointer self);
    expected<void, BuildError> link_audio(GstElement* tee);
    // Links every video sender the answer accepted to its codec's encoder branch.
    void attach_video(const AnswerShape& answer);
    void build_receiver(GstPad* pad);
    std::string name(const std::string& what) const { return "p_" + options_.id + "_" + what; }

    Call& call_;                       // main thread only
    PeerOptions options_;
    // What callbacks on GStreamer's threads use instead of call_: the Call may be gone.
    Call* call_ptr_;                   // dereferenced only on the main thread, once call_alive_ says so
    GMainContext* context_;
    std::weak_ptr<bool> call_alive_;
    std::atomic<bool> torn_down_{false};
    GstElement* webrtc_ = nullptr;     // owned by the pipeline
    struct VideoSender {
        bool content = false;
        unsigned mline = 0;
        guint ssrc = 0;                        // announced in the offer, used by the payloader
        GstPad* sink = nullptr;                // webrtcbin's request pad (owned by it)
        std::optional<hw::Codec> codec;        // set once linked
        GstElement* valve = nullptr;           // owned by the pipeline
    };
    std::vector<VideoSender> senders_;
    std::optional<AnswerShape> answer_;    // the last answer checked, until webrtcbin takes it
    bool video_enabled_ = true;
    std::vector<std::string> streams_;
    bool forwarding_ = false;
    bool offer_pending_ = false;   // sent, no answer yet
    std::string last_offer_;       // what the remote answers (main thread)
    bool renegotiate_ = false;     // webrtcbin asked again meanwhile
    bool video_refused_ = false;   // the answer turned video down: no video stream is added again
    std::vector<bool> accepted_;   // per m-line, from the last answer: candidates for a refused one go to the bundle's
};

}  // namespace consult::media
