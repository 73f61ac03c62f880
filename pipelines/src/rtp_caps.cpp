#include "rtp_caps.hpp"

#include <string_view>

namespace consult::media {

std::string video_pt(hw::Codec c, VideoRole role) {
    return std::to_string((c == hw::Codec::H264 ? 96 : 97) + 2 * int(role));
}

std::string video_caps(hw::Codec c, VideoRole role) {
    std::string caps = "application/x-rtp,media=video,encoding-name=" + std::string(hw::codec_name(c)) + ",payload=" + video_pt(c, role) +
                       ",clock-rate=90000,rtcp-fb-nack-pli=(boolean)true,rtcp-fb-nack=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";
    if (c == hw::Codec::H264)
        caps += ",packetization-mode=(string)1,profile-level-id=(string)42e01f,level-asymmetry-allowed=(string)1";
    return caps;
}

std::string audio_caps() {
    return std::string("application/x-rtp,media=audio,encoding-name=OPUS,payload=") + kAudioPt +
           ",clock-rate=48000,encoding-params=(string)2,minptime=(string)10,useinbandfec=(string)1";
}

void without_parameter_sets(GstSDPMessage* sdp) {
    for (guint m = 0; m < gst_sdp_message_medias_len(sdp); ++m) {
        auto* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
        for (guint a = 0; a < gst_sdp_media_attributes_len(media); ++a) {
            const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
            if (!attr->key || std::string_view(attr->key) != "fmtp" || !attr->value) continue;
            const std::string value = attr->value;
            std::string kept;
            std::size_t start = value.find(' ') == std::string::npos ? value.size() : value.find(' ') + 1;
            std::string head = value.substr(0, start);
            for (std::size_t i = start; i <= value.size();) {
                std::size_t end = value.find(';', i);
                if (end == std::string::npos) end = value.size();
                std::string param = value.substr(i, end - i);
                while (!param.empty() && param.front() == ' ') param.erase(0, 1);
                if (!param.empty() && param.rfind("sprop-parameter-sets=", 0) != 0) kept += (kept.empty() ? "" : ";") + param;
                i = end + 1;
            }
            GstSDPAttribute replacement;
            gst_sdp_attribute_set(&replacement, "fmtp", (head + kept).c_str());
            gst_sdp_media_replace_attribute(media, a, &replacement);
        }
    }
}

std::optional<hw::Codec> chosen_codec(const AnswerSection& section, VideoRole role) {
    for (const auto& pt : section.payloads) {
        if (pt == video_pt(hw::Codec::H264, role)) return hw::Codec::H264;
        if (pt == video_pt(hw::Codec::VP8, role)) return hw::Codec::VP8;
    }
    return std::nullopt;
}

std::string with_ssrc(GstElement* payloader, const std::string& caps) {
    const guint ssrc = g_random_int();
    g_object_set(payloader, "ssrc", ssrc, nullptr);
    return caps + ",ssrc=(uint)" + std::to_string(ssrc);
}

}  // namespace consult::media
