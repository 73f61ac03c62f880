// The far end for media tests: a webrtcbin that answers the appliance's offer, sends
// its own test video and audio back, and counts what it decodes.
#pragma once

#include "hwconfig/encoder_table.hpp"
#include "hwconfig/gref.hpp"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <string>

namespace consult::test {

class RemotePeer {
public:
    // `local_address`: the only address its ICE agent uses (empty: all).
    explicit RemotePeer(hw::Codec send_codec, const std::string& local_address = {});
    ~RemotePeer();

    std::function<void(const std::string& sdp)> on_answer;
    std::function<void(unsigned mline, const std::string& candidate)> on_candidate;

    void set_offer(const std::string& sdp);
    void add_candidate(unsigned mline, const std::string& candidate);
    // Asks the appliance for a keyframe the way a decoder does (RTCP PLI).
    void request_keyframe();
    // Sends its picture at another size from now on, as a browser adapting to its link does
    // (320x240 at first).
    void send_size(int width, int height);

    std::atomic<unsigned> video_frames{0};
    std::atomic<unsigned> audio_buffers{0};
    std::atomic<unsigned> keyframes_received{0};
    std::atomic<unsigned> video_streams{0};
    std::atomic<int> smallest_width{0};   // of the video streams decoded so far
    std::atomic<int> last_width{0};       // of the latest decoded frame
    // Every decoded video frame, on the streaming thread (set before the offer).
    std::function<void(GstPad* pad, GstBuffer* frame)> on_video_frame;

private:
    static void on_pad_added(GstElement*, GstPad* pad, gpointer self);
    GRef<GstElement> pipeline_;
    GstElement* webrtc_ = nullptr;
    GstElement* video_depay_ = nullptr;
};

}  // namespace consult::test
