// A session's room: its media::Call, the screens' peers in it, what the call reports
// (offers, candidates, link quality, media events), and the patient's comings and
// goings. The other half of the hub (hub.cpp) routes the screens' messages here.
#include "hub_parts.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"

#include <cmath>

namespace consult::signalling {

using json = nlohmann::json;
using domain::SessionStatus;

namespace {

constexpr std::int64_t kQualityWriteEveryUs = 10'000'000;

bool is_loopback(const std::string& address) {
    return address == "127.0.0.1" || address == "::1" || address.starts_with("::ffff:127.");
}

std::optional<media::CallSettings> call_settings(ApplianceContext& ctx, const twilio::IceServerList& ice) {
    if (!ctx.probe || !ctx.probe->encoder) return std::nullopt;
    media::CallSettings cs;
    cs.encoder = ctx.probe->encoder;
    cs.camera = ctx.probe->camera;
    cs.microphone = ctx.probe->microphone;
    cs.speaker = ctx.probe->speaker;
    cs.content = ctx.probe->content;
    cs.width = ctx.config.media.max_width;
    cs.height = ctx.config.media.max_height;
    cs.fps = ctx.config.media.max_fps;
    cs.dot_dir = ctx.state_dir;
    for (const auto& server : ice.servers) {
        const std::string uri = twilio::webrtcbin_uri(server);
        if (uri.starts_with("stun://") && cs.stun_server.empty()) cs.stun_server = uri;
        else if (uri.starts_with("turn")) cs.turn_servers.push_back(uri);
    }
    return cs;
}

}  // namespace

Hub::Socket* Hub::Room::socket_for(const std::string& peer) {
    auto it = peer_socket.find(peer);
    return it == peer_socket.end() ? nullptr : hub.find_socket(it->second);
}

void Hub::Room::local_description(const std::string& peer, media::SdpType type, const std::string& sdp) {
    Socket* s = socket_for(peer);
    if (!s || type != media::SdpType::Offer) return;
    s->offered = true;
    json streams = json::array();
    if (call)
        for (const auto& label : call->streams(peer)) streams.push_back(label);
    hub.send(*s, {{"type", "offer"}, {"sdp", sdp}, {"streams", streams}});
}

void Hub::Room::local_candidate(const std::string& peer, unsigned mline, const std::string& candidate) {
    if (Socket* s = socket_for(peer)) hub.send(*s, {{"type", "ice"}, {"candidate", candidate}, {"mline", mline}});
}

void Hub::Room::peer_state(const std::string& peer, const std::string& state) {
    log::info("peer " + peer + " is " + state, {{"SESSION_ID", session_id}, {"PEER", peer}});
    hub.ctx_.metrics.count("consult_peer_states_total", {{"state", state}});
}

void Hub::Room::stats(const std::string& peer, const media::PeerStats& st) {
    last_stats[peer] = st;
    json q{{"type", "quality"},
           {"level", quality_level(st.rtt_ms, st.fraction_lost)},
           {"rtt_ms", std::lround(st.rtt_ms)},
           {"loss", std::round(st.fraction_lost * 1000) / 1000},
           {"jitter_ms", std::lround(st.jitter_ms)},
           {"send_kbps", st.send_kbps},
           {"receive_kbps", st.receive_kbps},
           {"width", st.width},
           {"height", st.height},
           {"fps", std::round(st.fps * 10) / 10},
           {"frames_decoded", st.frames_decoded},
           {"audio_level", std::round(st.audio_level * 1000) / 1000},
           {"audio_decoded", st.audio_buffers_decoded}};
    if (Socket* s = socket_for(peer)) hub.send(*s, q);
    if (peer != kPatientPeer) return;
    q["peer"] = "patient";
    hub.to_session(session_id, q, "doctor");
    // The participant row keeps the latest view of the patient's link.
    const std::int64_t now = g_get_monotonic_time();
    if (patient_participant && now - last_quality_write_us >= kQualityWriteEveryUs) {
        last_quality_write_us = now;
        json stored = q;
        stored.erase("type");
        stored.erase("peer");
        stored["at"] = domain::now_iso();
        try {
            store::SessionStore(hub.ctx_.db).set_connection_quality(*patient_participant, stored);
        } catch (const std::exception& e) {
            log::warning(std::string("could not store connection quality: ") + e.what(), {{"SESSION_ID", session_id}});
        }
    }
}

void Hub::Room::event(const std::string& peer, media::MediaEvent e, const std::string& detail) {
    log::info(std::string("media event ") + media::event_name(e) + (detail.empty() ? "" : ": " + detail),
              {{"SESSION_ID", session_id}, {"PEER", peer}});
    hub.ctx_.metrics.count("consult_media_events_total", {{"event", media::event_name(e)}});
    if (e == media::MediaEvent::AudioOnly || e == media::MediaEvent::VideoRestored) {
        audio_only = e == media::MediaEvent::AudioOnly;
        hub.to_session(session_id, {{"type", "audio_only"}, {"on", audio_only}});
    } else if (e == media::MediaEvent::ContentLost) {
        content_on = false;
        hub.to_session(session_id, {{"type", "content"}, {"on", false}, {"reason", "the second camera stopped"}});
    } else if (e == media::MediaEvent::CameraLost || e == media::MediaEvent::CameraRestored) {
        hub.to_session(session_id, {{"type", "camera"}, {"available", e == media::MediaEvent::CameraRestored}}, "doctor");
    }
}

// ---------------------------------------------------------------- rooms and media

Hub::Room& Hub::room(const std::string& session_id) {
    auto it = rooms_.find(session_id);
    if (it != rooms_.end()) return *it->second;
    auto row = store::SessionStore(ctx_.db).find(session_id);
    auto r = std::make_unique<Room>(*this, session_id, row ? row->doctor_id : "");
    return *rooms_.emplace(session_id, std::move(r)).first->second;
}

void Hub::admit_patient(Room& r) {
    Socket* s = find_socket(r.patient_socket);
    if (!s || s->peer) return;
    send(*s, {{"type", "admitted"}});
    start_media(r, *s, false);
}

void Hub::start_media(Room& r, Socket& s, bool viewer) {
    if (!r.call) {
        auto settings = call_settings(ctx_, ice_servers());
        if (!settings) {
            close(s, CloseCode::MediaUnavailable, "the room's camera is not ready yet");
            return;
        }
        auto call = media::Call::create(*settings, r);
        if (!call) {
            log::error("could not start the call: " + call.error().describe(), {{"SESSION_ID", r.session_id}});
            close(s, CloseCode::MediaUnavailable, "the call could not start");
            return;
        }
        r.call = std::move(*call);
        r.call->set_microphone_muted(!r.media_state["doctor"]["audio"].get<bool>());
        r.call->set_camera_off(!r.media_state["doctor"]["video"].get<bool>());
    }
    media::PeerOptions o;
    o.id = viewer ? "view-" + s.id : kPatientPeer;
    o.send_audio = !viewer;                   // the kiosk is in the room: no echo of the room
    o.play_audio = !viewer;
    o.adapt_bitrate = !viewer;
    if (viewer) o.forward_from = kPatientPeer;
    if (is_loopback(s.address)) o.local_addresses = {"127.0.0.1"};
    s.peer = o.id;
    s.offered = false;
    r.peer_socket[o.id] = s.id;
    if (auto added = r.call->add_peer(o); !added) {
        log::error("could not add a peer: " + added.error().describe(), {{"SESSION_ID", r.session_id}});
        r.peer_socket.erase(o.id);
        s.peer.reset();
        close(s, CloseCode::MediaUnavailable, "the call could not start");
    }
}

void Hub::stop_media(Room& r, Socket& s) {
    if (!s.peer) return;
    if (r.call) r.call->remove_peer(*s.peer);
    r.peer_socket.erase(*s.peer);
    r.last_stats.erase(*s.peer);
    s.peer.reset();
    s.offered = false;
    if (r.call && r.peer_socket.empty()) {
        r.call.reset();   // frees the camera and the encoder
        if (r.content_on) to_session(r.session_id, {{"type", "content"}, {"on", false}});
        r.content_on = false;
    }
}

void Hub::patient_gone(Room& r, bool left) {
    tell_doctors(r.session_id);
    if (!r.patient_participant) return;
    auto finish = [this, session = r.session_id] {
        auto it = rooms_.find(session);
        if (it == rooms_.end() || !it->second->patient_participant) return;
        Room& room = *it->second;
        room.rejoin_timer = 0;
        store::SessionStore(ctx_.db).leave(*room.patient_participant);
        room.patient_participant.reset();
        room.waiting_since.clear();
        tell_doctors(session);
    };
    const int grace = ctx_.config.sessions.rejoin_seconds;
    if (left || grace == 0) {
        finish();
        return;
    }
    struct Job {
        std::function<void()> f;
        std::weak_ptr<bool> alive;
    };
    r.rejoin_timer = g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, guint(grace), [](gpointer p) -> gboolean {
        auto* j = static_cast<Job*>(p);
        if (j->alive.lock()) j->f();
        return G_SOURCE_REMOVE;
    }, new Job{finish, alive_}, [](gpointer p) { delete static_cast<Job*>(p); });
}

json Hub::waiting_room(const std::string& session_id) {
    json patients = json::array();
    auto row = store::SessionStore(ctx_.db).find(session_id);
    auto it = rooms_.find(session_id);
    if (row && it != rooms_.end() && it->second->patient_participant) {
        Room& r = *it->second;
        auto st = ctx_.db.prepare("SELECT full_name FROM patients WHERE id = ?1");
        st.bind(1, std::string_view(row->patient_id));
        json p{{"participant_id", *r.patient_participant}, {"name", st.step() ? json(st.text(0)) : json(nullptr)},
               {"since", r.waiting_since}, {"connected", !r.patient_socket.empty()},
               {"precheck", store::SessionStore(ctx_.db).precheck(*r.patient_participant).value_or(nullptr)},
               {"media", r.media_state["patient"]}};
        patients.push_back(p);
    }
    return {{"type", "waiting_room"}, {"session", session_id}, {"status", row ? row->status : "unknown"},
            {"patients", patients}};
}

void Hub::tell_doctors(const std::string& session_id) { to_session(session_id, waiting_room(session_id), "doctor"); }

void Hub::on_session_changed(const store::SessionRow& row) {
    to_session(row.id, {{"type", "state"}, {"session", row.id}, {"status", row.status}});
    if (closed(row)) {
        end_room(row.id, row.end_reason.value_or(row.status == "cancelled" ? "cancelled" : "ended"));
        return;
    }
    if (status_of(row) == SessionStatus::InProgress)
        if (auto it = rooms_.find(row.id); it != rooms_.end()) admit_patient(*it->second);
}

void Hub::end_room(const std::string& session_id, const std::string& reason) {
    std::vector<Socket*> bound;
    for (auto& [id, s] : sockets_)
        if (s->session_id == session_id) bound.push_back(s.get());
    auto it = rooms_.find(session_id);
    for (Socket* s : bound) {
        if (it != rooms_.end()) stop_media(*it->second, *s);
        send(*s, {{"type", "ended"}, {"reason", reason}});
        s->session_id.reset();
        close(*s, CloseCode::Ended, reason);
    }
    if (it != rooms_.end()) rooms_.erase(it);   // the store closed the participant rows with the session
}

}  // namespace consult::signalling
