#include "pipelines/sdp_check.hpp"

#include "hwconfig/gref.hpp"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <set>

namespace consult::media {

namespace {

constexpr guint kMaxSections = 16;
constexpr guint kMaxAttributes = 200;

std::string attr(const GstSDPMedia* m, const char* key) {
    const char* v = gst_sdp_media_get_attribute_val(m, key);
    return v ? v : "";
}

std::string session_attr(const GstSDPMessage* s, const char* key) {
    const char* v = gst_sdp_message_get_attribute_val(s, key);
    return v ? v : "";
}

expected<GstSDPMessagePtr, std::string> parse(const std::string& text, const char* what) {
    if (text.rfind("v=0", 0) != 0) return unexpected(std::string(what) + " does not start with v=0");
    GstSDPMessage* raw = nullptr;
    if (gst_sdp_message_new_from_text(text.c_str(), &raw) != GST_SDP_OK || !raw)
        return unexpected(std::string(what) + " does not parse");
    GstSDPMessagePtr msg(raw);
    if (gst_sdp_message_medias_len(msg.get()) == 0) return unexpected(std::string(what) + " has no media sections");
    if (gst_sdp_message_medias_len(msg.get()) > kMaxSections) return unexpected(std::string(what) + " has too many media sections");
    return msg;
}

}  // namespace

bool AnswerShape::rejects_any() const {
    return std::any_of(sections.begin(), sections.end(), [](const AnswerSection& s) { return !s.accepted; });
}

expected<AnswerShape, std::string> check_answer(const std::string& offer_text, const std::string& answer_text) {
    auto offer = parse(offer_text, "our offer");
    if (!offer) return unexpected(offer.error());
    auto answer = parse(answer_text, "the answer");
    if (!answer) return unexpected(answer.error());
    const GstSDPMessage* o = offer->get();
    const GstSDPMessage* a = answer->get();
    const guint n = gst_sdp_message_medias_len(o);
    if (gst_sdp_message_medias_len(a) != n)
        return unexpected("the answer has " + std::to_string(gst_sdp_message_medias_len(a)) + " media sections for an offer of " +
                          std::to_string(n));
    if (gst_sdp_message_attributes_len(a) > kMaxAttributes) return unexpected("the answer has too many attributes");

    AnswerShape shape;
    for (guint i = 0; i < n; ++i) {
        const GstSDPMedia* om = gst_sdp_message_get_media(o, i);
        const GstSDPMedia* am = gst_sdp_message_get_media(a, i);
        const std::string where = "media section " + std::to_string(i);
        AnswerSection sec;
        sec.media = gst_sdp_media_get_media(am) ? gst_sdp_media_get_media(am) : "";
        if (sec.media != (gst_sdp_media_get_media(om) ? gst_sdp_media_get_media(om) : ""))
            return unexpected(where + " is " + sec.media + " in the answer but not in the offer");
        if (gst_sdp_media_attributes_len(am) > kMaxAttributes) return unexpected(where + " has too many attributes");
        sec.mid = attr(am, "mid");
        if (attr(om, "mid") != sec.mid) return unexpected(where + " answers mid '" + sec.mid + "' for '" + attr(om, "mid") + "'");
        sec.accepted = gst_sdp_media_get_port(am) != 0;
        std::set<std::string> offered;
        for (guint f = 0; f < gst_sdp_media_formats_len(om); ++f) offered.insert(gst_sdp_media_get_format(om, f));
        for (guint f = 0; f < gst_sdp_media_formats_len(am); ++f) {
            const std::string pt = gst_sdp_media_get_format(am, f);
            if (offered.count(pt)) sec.payloads.push_back(pt);
        }
        if (sec.accepted) {
            if (sec.payloads.empty()) return unexpected(where + " (" + sec.media + ") keeps none of the offered formats");
            const bool ice = !(attr(am, "ice-ufrag").empty() && session_attr(a, "ice-ufrag").empty()) &&
                             !(attr(am, "ice-pwd").empty() && session_attr(a, "ice-pwd").empty());
            if (!ice) return unexpected(where + " has no ICE credentials");
            if (attr(am, "fingerprint").empty() && session_attr(a, "fingerprint").empty())
                return unexpected(where + " has no DTLS fingerprint");
            std::string setup = attr(am, "setup");
            if (setup.empty()) setup = session_attr(a, "setup");
            if (setup != "active" && setup != "passive")
                return unexpected(where + ": an answer's a=setup must be active or passive, not '" + setup + "'");
        }
        shape.sections.push_back(std::move(sec));
    }
    return shape;
}

}  // namespace consult::media
