// A session's room: its media::Call, the screens' peers in it, and what the call
// reports (offers, candidates, link quality, media events). hub.cpp routes the
// screens' messages here; waiting.cpp decides who has media.
#include "hub_parts.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/net/local_addresses.hpp"

#include <cmath>

namespace consult::signalling {

using json = nlohmann::json;

namespace {

constexpr std::int64_t kQualityWriteEveryUs = 10'000'000;

bool is_loopback(const std::string& address) {
    return address == "127.0.0.1" || address == "::1" || address.starts_with("::ffff:127.");
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
    hub.deps_.metrics.count("consult_peer_states_total", {{"state", state}});
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
    if (part && !part_stopping && hub.deps_.recordings && hub.deps_.recordings->nearly_full(hub.call_kbps(*this)))
        hub.recording_failed(*this, "the appliance's disk is nearly full");
    q["peer"] = "patient";
    hub.to_session(session_id, q, "doctor");
    // The participant row keeps the latest view of the patient's link; a busy store
    // just skips one: the next comes in ten seconds.
    const std::int64_t now = g_get_monotonic_time();
    if (patient_participant && now - last_quality_write_us >= kQualityWriteEveryUs) {
        last_quality_write_us = now;
        json stored = q;
        stored.erase("type");
        stored.erase("peer");
        stored["at"] = domain::now_iso();
        try {
            store::SessionStore(hub.deps_.db).set_connection_quality(*patient_participant, stored);
        } catch (const std::exception& e) {
            log::warning(std::string("could not store connection quality: ") + e.what(), {{"SESSION_ID", session_id}});
        }
    }
}

void Hub::Room::answer_refused(const std::string& peer, const std::string& why) {
    hub.deps_.metrics.count("consult_answers_refused_total", {});
    if (Socket* s = socket_for(peer)) hub.close(*s, CloseCode::BadMessage, "answer refused: " + why);
    if (peer == kPatientPeer)
        hub.to_session(session_id, {{"type", "media_notice"}, {"peer", peer}, {"kind", "answer_refused"},
                                    {"message", "The patient's browser answered with media the appliance cannot use (" +
                                                why + "). The patient's page asks them to open the link in a current "
                                                "Chrome, Edge, Firefox or Safari."}}, "doctor");
}

void Hub::Room::event(const std::string& peer, media::MediaEvent e, const std::string& detail) {
    log::info(std::string("media event ") + media::event_name(e) + (detail.empty() ? "" : ": " + detail),
              {{"SESSION_ID", session_id}, {"PEER", peer}});
    hub.deps_.metrics.count("consult_media_events_total", {{"event", media::event_name(e)}});
    const bool patient = peer == kPatientPeer;
    if (e == media::MediaEvent::RemoteDescriptionRefused) {
        answer_refused(peer, detail);
    } else if (e == media::MediaEvent::VideoRefused) {
        // A normal outcome: the call goes on with sound; both screens say so, once.
        if (Socket* s = socket_for(peer))
            hub.send(*s, {{"type", "media_notice"}, {"peer", peer}, {"kind", "video_refused"},
                          {"message", "This browser turned the picture down: the call goes on with sound only."}});
        if (patient)
            hub.to_session(session_id, {{"type", "media_notice"}, {"peer", peer}, {"kind", "video_refused"},
                                        {"message", "The patient's browser turned the picture down: the call goes on "
                                                    "with sound only."}}, "doctor");
    } else if (e == media::MediaEvent::NothingUsable) {
        // Final for this screen (the page does not reconnect into the same refusal).
        if (Socket* s = socket_for(peer)) {
            hub.send(*s, {{"type", "media_notice"}, {"peer", peer}, {"kind", "unsupported"}, {"message", detail}});
            hub.close(*s, CloseCode::BrowserUnsupported, "this browser cannot take part in the video call");
        }
        if (patient)
            hub.to_session(session_id, {{"type", "media_notice"}, {"peer", peer}, {"kind", "unsupported"},
                                        {"message", "The patient's browser cannot take part in the video call (it takes "
                                                    "neither the sound nor the picture). Ask the patient to open the link "
                                                    "in a current Chrome, Edge, Firefox or Safari."}}, "doctor");
    } else if (e == media::MediaEvent::AudioOnly || e == media::MediaEvent::VideoRestored) {
        audio_only = e == media::MediaEvent::AudioOnly;
        hub.to_session(session_id, {{"type", "audio_only"}, {"on", audio_only}});
    } else if (e == media::MediaEvent::ContentLost) {
        content_on = false;
        hub.to_session(session_id, {{"type", "content"}, {"on", false}, {"reason", "the second camera stopped"}});
    } else if (e == media::MediaEvent::RecordingStopped) {
        hub.finish_part(*this);
    } else if (e == media::MediaEvent::RecordingFailed) {
        // A stop that could not finish cleanly (the file closed late on a loaded box) still
        // ends the part as asked: no new part, and no failure over the withdrawal's message.
        if (part_stopping) hub.finish_part(*this);
        else hub.recording_broke(*this, detail);
    } else if ((e == media::MediaEvent::PeerConnected || e == media::MediaEvent::TrackArrived) && patient &&
               record_wanted && consent.given() &&
               (!part || part_peer != patient_peers || (call && call->recording_misses(kPatientPeer)))) {
        // The patient's media is back (a rejoin), or arrived only after the part began (a
        // slow link: the doctor tapped Record and the patient said yes first): a new part
        // with their tracks, once both have arrived.
        hub.deps_.later(std::chrono::milliseconds(1500), [h = &hub, session = session_id, alive = std::weak_ptr<bool>(hub.alive_)] {
            if (!alive.lock()) return;
            Room* r = h->find_room(session);
            if (!r || !r->record_wanted || !r->consent.given() || !r->call || !r->call->has_peer(kPatientPeer)) return;
            if (r->part && (r->part_stopping || !h->deps_.config.recording.include_patient ||
                            (r->part_peer == r->patient_peers && !r->call->recording_misses(kPatientPeer))))
                return;   // recording all of this peer already, or about to
            if (r->part) {
                r->restart_part = true;
                h->stop_part(*r);
            } else {
                h->start_part(*r, r->record_actor);
            }
        });
    } else if (e == media::MediaEvent::CameraLost || e == media::MediaEvent::CameraRestored) {
        hub.to_session(session_id, {{"type", "camera"}, {"available", e == media::MediaEvent::CameraRestored}}, "doctor");
    }
}

// ---------------------------------------------------------------- rooms and media

Hub::Room* Hub::find_room(const std::string& session_id) {
    auto it = rooms_.find(session_id);
    return it == rooms_.end() ? nullptr : it->second.get();
}

Hub::Room& Hub::room(const std::string& session_id) {
    if (Room* r = find_room(session_id)) return *r;
    auto row = store::SessionStore(deps_.db).find(session_id);
    auto r = std::make_unique<Room>(*this, session_id, row ? row->doctor_id : "",
                                    std::chrono::seconds(deps_.config.sessions.rejoin_seconds));
    if (row) r->patient_id = row->patient_id;
    Room& out = *rooms_.emplace(session_id, std::move(r)).first->second;
    deps_.events.publish({room::EventKind::RoomCreated, session_id, "", "", "", "", "", 0});
    return out;
}

json Hub::ice_json() {
    json out = json::array();
    for (const auto& s : deps_.ice_servers().servers) {
        json j{{"urls", s.urls}};
        if (!s.username.empty()) j["username"] = s.username;
        if (!s.credential.empty()) j["credential"] = s.credential;
        out.push_back(j);
    }
    return out;
}

void Hub::start_media(Room& r, Socket& s, bool viewer) {
    if (!r.call) {
        auto settings = deps_.call_settings(deps_.ice_servers());
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
        calls_changed();
        r.call->set_microphone_muted(!r.media_state["doctor"]["audio"].get<bool>());
        r.call->set_camera_off(!r.media_state["doctor"]["video"].get<bool>());
    }
    media::PeerOptions o;
    o.id = viewer ? "view-" + s.id : kPatientPeer;
    o.send_audio = !viewer;                   // the kiosk is in the room: no echo of the room
    o.play_audio = !viewer;
    o.adapt_bitrate = !viewer;
    if (viewer) o.forward_from = kPatientPeer;
    else ++r.patient_peers;
    // A screen on this box (the kiosk) reaches its peer over loopback, which ICE leaves
    // out unless named; naming addresses replaces ICE's own list, so the box's real
    // addresses are named too: a patient whose page came through a proxy on the box
    // also looks local, and needs them.
    if (is_loopback(s.address)) {
        o.local_addresses = net::interface_addresses();
        o.local_addresses.push_back("127.0.0.1");
    }
    s.peer = o.id;
    s.offered = false;
    r.peer_socket[o.id] = s.id;
    if (auto added = r.call->add_peer(o); !added) {
        log::error("could not add a peer: " + added.error().describe(), {{"SESSION_ID", r.session_id}});
        r.peer_socket.erase(o.id);
        s.peer.reset();
        close(s, CloseCode::MediaUnavailable, "the call could not start");
        return;
    }
    if (!viewer)
        for (const char* track : {"audio", "video"})
            publish(room::EventKind::TrackAdded, r, "patient", r.patient_participant.value_or(""), r.patient_id, track);
}

void Hub::stop_media(Room& r, Socket& s) {
    if (!s.peer) return;
    const bool patient = *s.peer == kPatientPeer;
    if (r.call) r.call->remove_peer(*s.peer);
    r.peer_socket.erase(*s.peer);
    r.last_stats.erase(*s.peer);
    s.peer.reset();
    s.offered = false;
    if (patient)
        for (const char* track : {"audio", "video"})
            publish(room::EventKind::TrackRemoved, r, "patient", r.patient_participant.value_or(""), r.patient_id, track);
    if (r.call && r.peer_socket.empty()) {
        const bool recording = r.part.has_value();
        r.call.reset();   // frees the camera and the encoder; a recording's file is closed
        if (recording) {
            r.restart_part = false;
            finish_part(r);
        }
        calls_changed();
        if (r.content_on) to_session(r.session_id, {{"type", "content"}, {"on", false}});
        r.content_on = false;
    }
}

}  // namespace consult::signalling
