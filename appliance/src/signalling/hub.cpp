// The signalling hub's socket half: a screen's connection, its hello (who it is and
// which session it may see), the message table, and closing with a code. The waiting
// room is applied in waiting.cpp, a session's media in rooms.cpp.
#include "hub_parts.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/input/json_input.hpp"
#include "appliance/log.hpp"
#include "appliance/signalling/ws_accept.hpp"
#include "hwconfig/c_boundary.hpp"
#include "soup_link.hpp"

namespace consult::signalling {

using json = nlohmann::json;
using tokens::Role;
using domain::SessionStatus;

namespace {
// Frames over the message limit get a clean 1009 from the parser; a message (all its
// fragments) four times over it ends the connection before it is buffered.
constexpr std::uint64_t kMaxBufferedMessage = 4 * kMaxMessageBytes;
}  // namespace

Hub::Hub(HubDeps deps) : deps_(std::move(deps)) {
    auto& m = deps_.metrics;
    m.set_help("consult_joins_total", "counter",
               "Patients let in whose call showed pictures on both sides (media_both_ways), or never did (no_media).");
    m.set_help("consult_admit_to_first_frame_seconds", "histogram",
               "From the patient's admission to each side's first picture, as the pages report it.");
    m.set_help("consult_calls_dropped_total", "counter",
               "Calls whose patient's connection dropped and did not come back within the rejoin window.");
}

Hub::~Hub() {
    *alive_ = false;
    shutdown();
}

void Hub::attach(SoupServer* server) {
    accept_websockets(server, "/ws", kMaxBufferedMessage,
                      [this, alive = std::weak_ptr<bool>(alive_)](SoupServerMessage* msg, SoupWebsocketConnection* ws) {
                          if (!alive.lock()) return;
                          const char* host = soup_server_message_get_remote_host(msg);
                          make_soup_link(*this, ws, host ? host : "");
                      });
}

std::size_t Hub::calls() const {
    std::size_t n = 0;
    for (const auto& [id, r] : rooms_) n += r->call ? 1 : 0;
    return n;
}

std::size_t Hub::occupied_rooms() const {
    std::size_t n = 0;
    for (const auto& [id, r] : rooms_) n += (r->call || r->waiting.present()) ? 1 : 0;
    return n;
}

std::string Hub::metrics_text() const {
    std::string o = "# HELP consult_signalling_sockets Open signalling WebSockets.\n# TYPE consult_signalling_sockets gauge\n"
                    "consult_signalling_sockets " + std::to_string(sockets_.size()) + "\n" +
                    "# HELP consult_calls Calls with media running.\n# TYPE consult_calls gauge\n"
                    "consult_calls " + std::to_string(calls()) + "\n";
    std::string rtt, loss, kbps;
    for (const auto& [id, r] : rooms_)
        for (const auto& [peer, st] : r->last_stats) {
            const std::string labels = "{session=\"" + id + "\",peer=\"" + (peer == kPatientPeer ? "patient" : "viewer") + "\"} ";
            rtt += "consult_peer_rtt_ms" + labels + std::to_string(st.rtt_ms) + "\n";
            loss += "consult_peer_loss_ratio" + labels + std::to_string(st.fraction_lost) + "\n";
            kbps += "consult_peer_send_kbps" + labels + std::to_string(st.send_kbps) + "\n";
        }
    o += "# HELP consult_peer_rtt_ms Round-trip time to each peer.\n# TYPE consult_peer_rtt_ms gauge\n" + rtt;
    o += "# HELP consult_peer_loss_ratio Fraction of our packets each peer reports lost.\n# TYPE consult_peer_loss_ratio gauge\n" + loss;
    o += "# HELP consult_peer_send_kbps What we send each peer.\n# TYPE consult_peer_send_kbps gauge\n" + kbps;
    return o;
}

// ---------------------------------------------------------------- sockets

std::string Hub::connect(std::unique_ptr<ScreenLink> link, const std::string& address) {
    auto s = std::make_unique<Socket>();
    s->id = "s" + std::to_string(++next_socket_);
    s->link = std::move(link);
    s->address = address;
    const std::string id = s->id;
    deps_.metrics.count("consult_signalling_connections_total", {});
    sockets_.emplace(id, std::move(s));
    // A socket that never says hello is closed.
    deps_.later(std::chrono::milliseconds(kHelloTimeoutMs), [this, id, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        if (Socket* s = find_socket(id); s && !s->authenticated) close(*s, CloseCode::Unauthenticated, "no hello");
    });
    return id;
}

Hub::Socket* Hub::find_socket(const std::string& id) {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : it->second.get();
}

void Hub::send(Socket& s, const json& m) {
    if (s.closing || !s.link->open()) return;
    s.link->send(input::dump(m));
}

void Hub::close(Socket& s, CloseCode code, const std::string& reason) {
    if (s.closing) return;
    s.closing = true;
    deps_.metrics.count("consult_signalling_closes_total", {{"code", std::to_string(int(code))}});
    if (code != CloseCode::Normal && code != CloseCode::Ended && code != CloseCode::GoingAway)
        log::info("signalling socket closed: " + reason,
                  {{"SOCKET", s.id}, {"CODE", std::to_string(int(code))}, {"SESSION_ID", s.session_id.value_or("")}});
    if (s.link->open()) s.link->close(code, reason.substr(0, 120));
}

void Hub::to_session(const std::string& session_id, const json& m, const char* role) {
    Room* r = find_room(session_id);
    for (auto& [id, s] : sockets_) {
        if (!s->authenticated || s->closing) continue;
        if (role && std::string_view(role) != s->role()) continue;
        const bool bound = s->session_id == session_id;
        const bool lobby = s->doctor() && !s->session_id && r && r->doctor_id == s->claims.identity;
        if (bound || (lobby && m.value("type", "") != "quality")) send(*s, m);
    }
}

void Hub::receive(const std::string& screen, std::string_view text) {
    Socket* s = find_socket(screen);
    if (!s || s->closing) return;
    if (!s->flood.allow(g_get_monotonic_time())) {
        close(*s, CloseCode::Flood, "too many messages");
        return;
    }
    auto m = msg::parse(text);
    if (!m) {
        close(*s, m.error().code, m.error().reason);
        return;
    }
    // Whatever a handler throws ends with this socket's answer, never past it.
    try {
        handle(*s, *m);
    } catch (const domain::DomainError& e) {
        send(*s, {{"type", "error"}, {"code", e.code()}, {"message", e.what()}});
    } catch (const store::StoreError& e) {
        log::error(std::string("signalling: store error: ") + e.what(), {{"SOCKET", s->id}});
        deps_.metrics.count("consult_signalling_store_errors_total", {});
        const bool busy = store::WriteQueue::worth_retrying(e);
        if (std::holds_alternative<msg::Hello>(*m)) {
            // Half a hello is no hello: the page reconnects (with backoff) and says it again.
            close(*s, CloseCode::TryAgainLater, "the appliance is busy; connecting again");
            return;
        }
        send(*s, {{"type", "error"}, {"code", busy ? "store_busy" : "store_error"},
                  {"message", busy ? "the appliance is busy; try again in a moment" : "could not save; try again"}});
    } catch (const std::exception& e) {
        report_at_boundary("signalling message", e.what());
        close(*s, CloseCode::InternalError, "the appliance could not handle that message");
    }
}

void Hub::handle(Socket& s, const msg::Any& m) {
    if (!s.authenticated) {
        if (auto* hello_msg = std::get_if<msg::Hello>(&m)) hello(s, *hello_msg);
        else close(s, CloseCode::Unauthenticated, "the first message must be hello");
        return;
    }
    if ((msg::doctor_only(m) && !s.doctor()) || (msg::patient_only(m) && !s.patient())) {
        close(s, CloseCode::Forbidden, std::string(msg::type_name(m)) + (s.patient() ? " is for the doctor" : " is for the patient"));
        return;
    }
    std::visit([&](const auto& typed) { on(s, typed); }, m);
}

void Hub::disconnected(const std::string& screen) {
    auto it = sockets_.find(screen);
    if (it == sockets_.end()) return;
    std::unique_ptr<Socket> s = std::move(it->second);
    sockets_.erase(it);
    Room* r = s->session_id ? find_room(*s->session_id) : nullptr;
    if (!r) return;
    stop_media(*r, *s);
    if (s->patient()) {
        patient_dropped(*r, *s);
    } else if (s->doctor() && s->participant_id) {
        // The doctor's row stays open while another of their screens is on this session.
        bool other = false;
        for (auto& [id, o] : sockets_) other |= o->doctor() && o->session_id == s->session_id;
        if (!other) {
            write("doctor left " + *s->session_id, [p = *s->participant_id](store::Database& db) { store::SessionStore(db).leave(p); });
            publish(room::EventKind::ParticipantDisconnected, *r, "doctor", *s->participant_id, s->claims.identity);
        }
    }
}

void Hub::refuse(const std::string& screen, CloseCode code, const std::string& reason) {
    if (Socket* s = find_socket(screen)) close(*s, code, reason);
}

void Hub::signed_out(const tokens::Claims& claims) {
    for (auto& [id, s] : sockets_)
        if (s->authenticated && s->claims.jti == claims.jti) close(*s, CloseCode::Unauthenticated, "signed out");
    if (claims.role != Role::Doctor) return;
    // The room's camera and microphone do not go on for a patient once the doctor has
    // signed out (their token may have been renewed since the call's screen opened).
    std::vector<std::string> running;
    for (const auto& [id, r] : rooms_)
        if (r->doctor_id == claims.identity) running.push_back(id);
    for (const auto& id : running) {
        try {
            auto row = store::SessionStore(deps_.db).find(id);
            if (!row || status_of(*row) != SessionStatus::InProgress) continue;
            auto after = store::SessionStore(deps_.db).transition(id, SessionStatus::Completed, claims.identity,
                                                                  std::string("the doctor signed out"));
            audit({claims.identity, "doctor", "session.end", id, "", json{{"reason", "signed out"}}});
            deps_.session_changed(after);
        } catch (const std::exception& e) {
            // The store would not take it (busy, disk full): the camera and microphone
            // still stop and the patient is told; the row stays in progress for the
            // doctor (or the clock) to end, and the doctor's other calls still end.
            log::error(std::string("could not record the end of a call at sign-out: ") + e.what(), {{"SESSION_ID", id}});
            end_room(id, "the doctor signed out");
        }
    }
}

// ---------------------------------------------------------------- hello

void Hub::hello(Socket& s, const msg::Hello& m) {
    auto claims = deps_.tokens.check(m.token, tokens::unix_now());
    if (!claims) {
        deps_.metrics.count("consult_token_refusals_total", {{"reason", std::string(tokens::describe(claims.error()))}});
        close(s, CloseCode::Unauthenticated, "token refused: " + std::string(tokens::describe(claims.error())));
        return;
    }
    s.claims = *claims;
    s.authenticated = true;
    if (s.claims.role == Role::Admin) {
        close(s, CloseCode::Forbidden, "an admin token cannot join a consultation");
        return;
    }
    if (s.claims.role == Role::Doctor) {
        hello_doctor(s, m.session);
        return;
    }
    auto row = s.claims.session_id ? store::SessionStore(deps_.db).find(*s.claims.session_id) : std::nullopt;
    if (!row || row->patient_id != s.claims.identity) {
        close(s, CloseCode::Forbidden, "this link is not for a consultation here");
        return;
    }
    if (ended(s, *row)) return;
    hello_patient(s, *row, m.device);
}

void Hub::on(Socket& s, const msg::Hello&) { close(s, CloseCode::BadMessage, "hello twice"); }

void Hub::on(Socket& s, const msg::Ping&) { send(s, {{"type", "pong"}}); }

// ---------------------------------------------------------------- messages

void Hub::on(Socket& s, const msg::Answer& m) {
    Room* r = s.session_id ? find_room(*s.session_id) : nullptr;
    if (!r || !s.peer || !s.offered || !r->call) {
        close(s, CloseCode::Forbidden, "answer before an offer");
        return;
    }
    if (!r->call->awaiting_answer(*s.peer)) {
        // Late or duplicated: said, not fatal (the answer that counted is in place).
        send(s, {{"type", "error"}, {"code", "answer_unexpected"}, {"message", "no offer is waiting for an answer"}});
        return;
    }
    if (auto ok = r->call->set_remote_description(*s.peer, media::SdpType::Answer, m.sdp); !ok)
        r->answer_refused(*s.peer, ok.error());
}

void Hub::on(Socket& s, const msg::Ice& m) {
    Room* r = s.session_id ? find_room(*s.session_id) : nullptr;
    if (!r || !s.peer || !s.offered || !r->call) {
        close(s, CloseCode::Forbidden, "ice before an offer");
        return;
    }
    if (!m.candidate.empty()) r->call->add_remote_candidate(*s.peer, m.mline, m.candidate);
}

void Hub::on(Socket& s, const msg::Media& m) {
    Room* r = s.session_id ? find_room(*s.session_id) : nullptr;
    if (!r) return;
    json& before = r->media_state[s.role()];
    const bool audio_was = before.value("audio", true), video_was = before.value("video", true);
    before = {{"audio", m.audio}, {"video", m.video}};
    if (s.doctor() && r->call) {
        r->call->set_microphone_muted(!m.audio);
        r->call->set_camera_off(!m.video);
    }
    to_session(r->session_id, {{"type", "peer_media"}, {"from", s.role()}, {"audio", m.audio}, {"video", m.video}},
               s.patient() ? "doctor" : "patient");
    const std::string participant = s.participant_id.value_or("");
    if (audio_was != m.audio)
        publish(m.audio ? room::EventKind::TrackEnabled : room::EventKind::TrackDisabled, *r, s.role(), participant,
                s.claims.identity, "audio");
    if (video_was != m.video)
        publish(m.video ? room::EventKind::TrackEnabled : room::EventKind::TrackDisabled, *r, s.role(), participant,
                s.claims.identity, "video");
}

void Hub::on(Socket& s, const msg::Chat& m) {
    const std::string session_id = s.patient() ? *s.session_id : doctor_session(s, m.session).id;
    const bool blank = m.text.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank || input::utf8_length(m.text) > 2000) {
        send(s, {{"type", "error"}, {"code", "invalid_chat"}, {"message", "a chat message is 1-2000 characters"}});
        return;
    }
    store::SessionStore sessions(deps_.db);
    auto row = sessions.find(session_id);
    if (s.patient()) {
        Room* r = find_room(session_id);
        const bool admitted = r && r->waiting.admitted_screen() == s.id;
        if (!row || status_of(*row) != SessionStatus::InProgress || !admitted) {
            send(s, {{"type", "error"}, {"code", "not_admitted"}, {"message", "chat opens when the doctor lets you in"}});
            return;
        }
    }
    if (!row || closed(*row)) throw domain::conflict("session_closed", "this consultation has ended");
    auto saved = sessions.add_chat(session_id, s.role(), s.claims.identity, m.text);
    to_session(session_id, {{"type", "chat"}, {"id", saved.id}, {"from", saved.sender_type}, {"text", saved.text}, {"at", saved.sent_at}});
}

void Hub::on(Socket& s, const msg::Precheck& m) {
    Room& r = room(*s.session_id);
    json result{{"camera", m.camera}, {"microphone", m.microphone}, {"speaker", m.speaker}, {"browser", m.browser},
                {"at", domain::now_iso()}};
    if (s.participant_id) store::SessionStore(deps_.db).set_precheck(*s.participant_id, result);
    tell_doctors(r.session_id);
}

void Hub::on(Socket& s, const msg::ReconnectMedia&) {
    Room* r = s.session_id ? find_room(*s.session_id) : nullptr;
    if (!s.peer || !r) {
        close(s, CloseCode::Forbidden, "no call to reconnect");
        return;
    }
    stop_media(*r, s);
    start_media(*r, s, s.doctor());
}

void Hub::on(Socket& s, const msg::Leave&) {
    Room& r = room(*s.session_id);
    patient_left(r, s);
    close(s, CloseCode::Normal, "left");
}

void Hub::on(Socket& s, const msg::Share& m) {
    auto row = doctor_session(s, m.session);
    Room& r = room(row.id);
    if (!r.call) {
        send(s, {{"type", "error"}, {"code", "no_call"}, {"message", "share the camera once the call is running"}});
        return;
    }
    if (auto ok = r.call->set_content_shared(m.on); !ok) {
        send(s, {{"type", "error"}, {"code", "no_content_camera"}, {"message", ok.error().reason}});
        return;
    }
    r.content_on = m.on;
    audit({s.claims.identity, "doctor", m.on ? "content.share" : "content.stop", row.id, s.address, nullptr});
    to_session(row.id, {{"type", "content"}, {"on", m.on}});
    publish(m.on ? room::EventKind::TrackAdded : room::EventKind::TrackRemoved, r, "doctor", s.participant_id.value_or(""),
            s.claims.identity, "content");
}

void Hub::on(Socket& s, const msg::View& m) {
    auto row = doctor_session(s, m.session);
    if (status_of(row) != SessionStatus::InProgress || s.session_id != row.id) {
        close(s, CloseCode::Forbidden, "view needs this screen opened on a consultation in progress");
        return;
    }
    Room& r = room(row.id);
    stop_media(r, s);
    start_media(r, s, true);
}

void Hub::shutdown() {
    // Whoever is in a call is recorded as having left; the sessions themselves stay
    // as they are, so a doctor can pick up after a restart.
    for (auto& [id, r] : rooms_) everyone_left(*r);
    for (auto& [id, s] : sockets_)
        if (s->participant_id) {
            try {
                store::SessionStore(deps_.db).leave(*s->participant_id);
            } catch (const std::exception& e) {
                log::warning(std::string("could not record a participant leaving: ") + e.what());
            }
        }
    for (auto& [id, r] : rooms_) {
        r->call.reset();   // a recording's file is closed; its part is kept and composed after the restart
        finish_part(*r);
    }
    for (auto& [id, s] : sockets_) {
        s->peer.reset();
        close(*s, CloseCode::GoingAway, "the appliance is restarting");
    }
    rooms_.clear();
}

}  // namespace consult::signalling
