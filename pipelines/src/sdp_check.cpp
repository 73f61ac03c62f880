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

std::string normalised_answer(const std::string& answer_text, const AnswerShape& shape) {
    GstSDPMessage* raw = nullptr;
    if (gst_sdp_message_new_from_text(answer_text.c_str(), &raw) != GST_SDP_OK || !raw) return answer_text;
    GstSDPMessagePtr in(raw);
    if (!shape.rejects_any()) return answer_text;
    // The transport every accepted section shares (max-bundle: one ICE and DTLS session).
    std::string ufrag = session_attr(in.get(), "ice-ufrag"), pwd = session_attr(in.get(), "ice-pwd");
    std::string setup = session_attr(in.get(), "setup");
    std::string fingerprint = session_attr(in.get(), "fingerprint");
    for (guint i = 0; i < gst_sdp_message_medias_len(in.get()) && i < shape.sections.size(); ++i) {
        if (!shape.sections[i].accepted) continue;
        const GstSDPMedia* m = gst_sdp_message_get_media(in.get(), i);
        if (ufrag.empty()) ufrag = attr(m, "ice-ufrag");
        if (pwd.empty()) pwd = attr(m, "ice-pwd");
        if (setup.empty()) setup = attr(m, "setup");
        if (fingerprint.empty()) fingerprint = attr(m, "fingerprint");
        break;
    }

    GstSDPMessage* out_raw = nullptr;
    gst_sdp_message_new(&out_raw);
    GstSDPMessagePtr out(out_raw);
    const GstSDPOrigin* o = gst_sdp_message_get_origin(in.get());
    gst_sdp_message_set_version(out.get(), gst_sdp_message_get_version(in.get()));
    gst_sdp_message_set_origin(out.get(), o->username, o->sess_id, o->sess_version, o->nettype, o->addrtype, o->addr);
    gst_sdp_message_set_session_name(out.get(), gst_sdp_message_get_session_name(in.get()));
    for (guint t = 0; t < gst_sdp_message_times_len(in.get()); ++t) {
        const GstSDPTime* time = gst_sdp_message_get_time(in.get(), t);
        gst_sdp_message_add_time(out.get(), time->start, time->stop, nullptr);
    }
    std::string bundle;
    for (guint i = 0; i < shape.sections.size(); ++i)
        if (shape.sections[i].accepted) bundle += " " + shape.sections[i].mid;
    for (guint a = 0; a < gst_sdp_message_attributes_len(in.get()); ++a) {
        const GstSDPAttribute* at = gst_sdp_message_get_attribute(in.get(), a);
        if (at->key && std::string_view(at->key) == "group" && at->value && std::string_view(at->value).starts_with("BUNDLE"))
            gst_sdp_message_add_attribute(out.get(), "group", ("BUNDLE" + bundle).c_str());
        else
            gst_sdp_message_add_attribute(out.get(), at->key, at->value);
    }
    for (guint i = 0; i < gst_sdp_message_medias_len(in.get()); ++i) {
        const GstSDPMedia* m = gst_sdp_message_get_media(in.get(), i);
        if (i >= shape.sections.size() || shape.sections[i].accepted) {
            GstSDPMedia* copy = nullptr;
            gst_sdp_media_copy(m, &copy);
            gst_sdp_message_add_media(out.get(), copy);   // moves the contents out of `copy`
            g_free(copy);
            continue;
        }
        GstSDPMedia* rejected = nullptr;
        gst_sdp_media_new(&rejected);
        gst_sdp_media_set_media(rejected, gst_sdp_media_get_media(m));
        gst_sdp_media_set_port_info(rejected, 0, 0);
        gst_sdp_media_set_proto(rejected, gst_sdp_media_get_proto(m) ? gst_sdp_media_get_proto(m) : "UDP/TLS/RTP/SAVPF");
        for (guint f = 0; f < gst_sdp_media_formats_len(m); ++f) gst_sdp_media_add_format(rejected, gst_sdp_media_get_format(m, f));
        if (gst_sdp_media_formats_len(m) == 0) gst_sdp_media_add_format(rejected, "0");
        gst_sdp_media_add_connection(rejected, "IN", "IP4", "0.0.0.0", 0, 0);
        gst_sdp_media_add_attribute(rejected, "mid", shape.sections[i].mid.c_str());
        gst_sdp_media_add_attribute(rejected, "inactive", "");
        if (!ufrag.empty()) gst_sdp_media_add_attribute(rejected, "ice-ufrag", ufrag.c_str());
        if (!pwd.empty()) gst_sdp_media_add_attribute(rejected, "ice-pwd", pwd.c_str());
        gst_sdp_media_add_attribute(rejected, "setup", setup.empty() ? "active" : setup.c_str());
        if (!fingerprint.empty() && session_attr(in.get(), "fingerprint").empty())
            gst_sdp_media_add_attribute(rejected, "fingerprint", fingerprint.c_str());
        gst_sdp_message_add_media(out.get(), rejected);
        g_free(rejected);
    }
    GCharPtr text(gst_sdp_message_as_text(out.get()));
    return text.get();
}

}  // namespace consult::media
