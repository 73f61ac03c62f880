// What the room offers and sends, as RTP caps: the payload types, the codec parameters
// browsers expect (JSEP and the codec RFCs), and the few SDP edits made before an offer
// leaves. Peers build their payloaders and codec preferences from these.
#pragma once

#include "hwconfig/encoder_table.hpp"
#include "pipelines/sdp_check.hpp"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <optional>
#include <string>

namespace consult::media {

inline constexpr const char* kAudioPt = "111";

// Each kind of video section has payload types of its own (room 96/97, content 98/99,
// a forwarded patient 100/101): a browser that does not read a=ssrc or the mid header
// extension still tells the bundled sections' packets apart by payload type.
enum class VideoRole { Room = 0, Content = 1, Forward = 2 };

std::string video_pt(hw::Codec c, VideoRole role);
// H.264 constrained baseline with packetization-mode=1 (every browser with H.264 takes
// it), or VP8, on the role's payload type.
std::string video_caps(hw::Codec c, VideoRole role);
// Opus in stereo framing as RFC 7587 writes it (opus/48000/2), whatever the channels.
std::string audio_caps();
// Drops sprop-parameter-sets from every fmtp of `sdp`.
void without_parameter_sets(GstSDPMessage* sdp);
// The codec an answer's section chose: the first of its formats that we offered.
std::optional<hw::Codec> chosen_codec(const AnswerSection& section, VideoRole role);
// Pins a payloader's SSRC and writes it into its caps, so the SDP names the stream
// even when the offer is made before the first packet (a renegotiation mid-call).
std::string with_ssrc(GstElement* payloader, const std::string& caps);

}  // namespace consult::media
