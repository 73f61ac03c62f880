// The signalling hub's socket half: accepting a screen's WebSocket, its hello (who it is and
// which session it may see), the message table, and closing it with a code. A
// session's room and its media are the other half (rooms.cpp).
#include "hub_parts.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/messaging.hpp"

namespace consult::signalling {

using json = nlohmann::json;
using tokens::Role;
using domain::SessionStatus;

Hub::Hub(ApplianceContext& ctx) : ctx_(ctx) {
    ctx_.session_listeners.push_back([this, alive = std::weak_ptr<bool>(alive_)](const store::SessionRow& row) {
        if (alive.lock()) on_session_changed(row);
    });
    ctx_.metric_sources.push_back([this, alive = std::weak_ptr<bool>(alive_)]() -> std::string {
        return alive.lock() ? metrics_text() : std::string();
    });
}

Hub::~Hub() {
    *alive_ = false;
    shutdown();
    for (auto& [id, s] : sockets_) {
        if (s->hello_timer) g_source_remove(s->hello_timer);
        g_signal_handler_disconnect(s->ws.get(), s->message_handler);
        g_signal_handler_disconnect(s->ws.get(), s->closed_handler);
    }
}

void Hub::attach(SoupServer* server) {
    soup_server_add_websocket_handler(server, "/ws", nullptr, nullptr, &Hub::on_websocket, this, nullptr);
}

std::size_t Hub::calls() const {
    std::size_t n = 0;
    for (const auto& [id, r] : rooms_) n += r->call ? 1 : 0;
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

void Hub::on_websocket(SoupServer*, SoupServerMessage* msg, const char*, SoupWebsocketConnection* ws, gpointer p) {
    auto* hub = static_cast<Hub*>(p);
    auto s = std::make_unique<Socket>();
    s->id = "s" + std::to_string(++hub->next_socket_);
    s->ws = retain(ws);
    const char* host = soup_server_message_get_remote_host(msg);
    s->address = host ? host : "";
    // Frames over our limit get a clean 1009 from the parser; libsoup drops the
    // connection only for the absurd ones, before buffering them.
    g_object_set(ws, "max-incoming-payload-size", guint64(4 * kMaxMessageBytes), "keepalive-interval", 20u, nullptr);

    struct Ctx {
        Hub* hub;
        std::string id;
    };
    auto* on_message = +[](SoupWebsocketConnection*, gint type, GBytes* bytes, gpointer p) {
        auto* c = static_cast<Ctx*>(p);
        Socket* s = c->hub->find_socket(c->id);
        if (!s || s->closing) return;
        if (type != SOUP_WEBSOCKET_DATA_TEXT) {
            c->hub->close(*s, CloseCode::BadMessage, "text frames only");
            return;
        }
        gsize n = 0;
        auto* data = static_cast<const char*>(g_bytes_get_data(bytes, &n));
        c->hub->on_text(*s, std::string_view(data, n));
    };
    auto* on_close = +[](SoupWebsocketConnection*, gpointer p) {
        auto* c = static_cast<Ctx*>(p);
        c->hub->on_closed(c->id);
    };
    auto free_ctx = +[](gpointer p, GClosure*) { delete static_cast<Ctx*>(p); };
    s->message_handler = g_signal_connect_data(ws, "message", G_CALLBACK(on_message), new Ctx{hub, s->id}, free_ctx, GConnectFlags(0));
    s->closed_handler = g_signal_connect_data(ws, "closed", G_CALLBACK(on_close), new Ctx{hub, s->id}, free_ctx, GConnectFlags(0));

    // A socket that never says hello is closed.
    auto* timer_ctx = new Ctx{hub, s->id};
    s->hello_timer = g_timeout_add_full(G_PRIORITY_DEFAULT, kHelloTimeoutMs, [](gpointer p) -> gboolean {
        auto* c = static_cast<Ctx*>(p);
        if (Socket* s = c->hub->find_socket(c->id)) {
            s->hello_timer = 0;
            if (!s->authenticated) c->hub->close(*s, CloseCode::Unauthenticated, "no hello");
        }
        return G_SOURCE_REMOVE;
    }, timer_ctx, [](gpointer p) { delete static_cast<Ctx*>(p); });
    hub->ctx_.metrics.count("consult_signalling_connections_total", {});
    hub->sockets_.emplace(s->id, std::move(s));
}

Hub::Socket* Hub::find_socket(const std::string& id) {
    auto it = sockets_.find(id);
    return it == sockets_.end() ? nullptr : it->second.get();
}

void Hub::send(Socket& s, const json& m) {
    if (s.closing || soup_websocket_connection_get_state(s.ws.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
    soup_websocket_connection_send_text(s.ws.get(), m.dump().c_str());
}

void Hub::close(Socket& s, CloseCode code, const std::string& reason) {
    if (s.closing) return;
    s.closing = true;
    ctx_.metrics.count("consult_signalling_closes_total", {{"code", std::to_string(int(code))}});
    if (code != CloseCode::Normal && code != CloseCode::Ended && code != CloseCode::GoingAway)
        log::info("signalling socket closed: " + reason,
                  {{"SOCKET", s.id}, {"CODE", std::to_string(int(code))}, {"SESSION_ID", s.session_id.value_or("")}});
    if (soup_websocket_connection_get_state(s.ws.get()) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(s.ws.get(), gushort(code), reason.substr(0, 120).c_str());
}

void Hub::to_session(const std::string& session_id, const json& m, const char* role) {
    for (auto& [id, s] : sockets_) {
        if (!s->authenticated || s->closing) continue;
        if (role && std::string_view(role) != s->role()) continue;
        const bool bound = s->session_id == session_id;
        const bool lobby = s->doctor() && !s->session_id && rooms_.count(session_id) &&
                           rooms_.at(session_id)->doctor_id == s->claims.identity;
        if (bound || (lobby && m.value("type", "") != "quality")) send(*s, m);
    }
}

void Hub::on_text(Socket& s, std::string_view text) {
    if (!s.flood.allow(g_get_monotonic_time())) {
        close(s, CloseCode::Flood, "too many messages");
        return;
    }
    auto m = parse_client_message(text);
    if (!m) {
        close(s, m.error().code, m.error().reason);
        return;
    }
    if (!s.authenticated) {
        if (m->type != "hello") close(s, CloseCode::Unauthenticated, "the first message must be hello");
        else hello(s, m->body);
        return;
    }
    if (m->type == "hello") {
        close(s, CloseCode::BadMessage, "hello twice");
        return;
    }
    try {
        handle(s, *m);
    } catch (const domain::DomainError& e) {
        send(s, {{"type", "error"}, {"code", e.code()}, {"message", e.what()}});
    } catch (const store::StoreError& e) {
        log::error(std::string("signalling: store error: ") + e.what(), {{"SOCKET", s.id}});
        send(s, {{"type", "error"}, {"code", "store_error"}, {"message", "could not save; try again"}});
    }
}

void Hub::on_closed(const std::string& socket_id) {
    auto it = sockets_.find(socket_id);
    if (it == sockets_.end()) return;
    std::unique_ptr<Socket> s = std::move(it->second);
    sockets_.erase(it);
    if (s->hello_timer) g_source_remove(s->hello_timer);
    g_signal_handler_disconnect(s->ws.get(), s->message_handler);
    g_signal_handler_disconnect(s->ws.get(), s->closed_handler);
    if (!s->session_id || !rooms_.count(*s->session_id)) return;
    Room& r = *rooms_.at(*s->session_id);
    stop_media(r, *s);
    if (s->patient() && r.patient_socket == s->id) {
        r.patient_socket.clear();
        patient_gone(r, false);
    } else if (s->doctor() && s->participant_id) {
        // The doctor's row stays open while another of their screens is on this session.
        bool other = false;
        for (auto& [id, o] : sockets_) other |= o->doctor() && o->session_id == s->session_id;
        if (!other) store::SessionStore(ctx_.db).leave(*s->participant_id);
    }
}

// ---------------------------------------------------------------- hello

bool Hub::ended(Socket& s, const store::SessionRow& row) {
    if (!closed(row)) return false;
    send(s, {{"type", "ended"}, {"reason", row.end_reason.value_or("this consultation has ended")}});
    close(s, CloseCode::Ended, "this consultation has ended");
    return true;
}

void Hub::hello(Socket& s, const json& m) {
    auto claims = ctx_.tokens.check(m.at("token").get<std::string>(), tokens::unix_now());
    if (!claims) {
        ctx_.metrics.count("consult_token_refusals_total", {{"reason", std::string(tokens::describe(claims.error()))}});
        close(s, CloseCode::Unauthenticated, "token refused: " + std::string(tokens::describe(claims.error())));
        return;
    }
    s.claims = *claims;
    s.authenticated = true;
    if (s.hello_timer) g_source_remove(s.hello_timer);
    s.hello_timer = 0;
    if (s.claims.role == Role::Admin) {
        close(s, CloseCode::Forbidden, "an admin token cannot join a consultation");
        return;
    }
    if (s.claims.role == Role::Doctor) {
        std::optional<std::string> session;
        if (m.contains("session")) session = m.at("session").get<std::string>();
        hello_doctor(s, session);
        return;
    }
    auto row = s.claims.session_id ? store::SessionStore(ctx_.db).find(*s.claims.session_id) : std::nullopt;
    if (!row || row->patient_id != s.claims.identity) {
        close(s, CloseCode::Forbidden, "this link is not for a consultation here");
        return;
    }
    if (ended(s, *row)) return;
    hello_patient(s, *row);
}

twilio::IceServerList Hub::ice_servers() {
    if (ctx_.messaging) return ctx_.messaging->ice_servers().current(std::time(nullptr));
    twilio::IceServerList list{{}, "configured", 0};
    for (const auto& url : ctx_.config.media.stun_servers) list.servers.push_back({url, "", ""});
    return list;
}

json Hub::ice_json() {
    json out = json::array();
    for (const auto& s : ice_servers().servers) {
        json j{{"urls", s.urls}};
        if (!s.username.empty()) j["username"] = s.username;
        if (!s.credential.empty()) j["credential"] = s.credential;
        out.push_back(j);
    }
    return out;
}

namespace {

json session_info(store::Database& db, const store::SessionRow& row) {
    auto st = db.prepare("SELECT c.name, d.full_name FROM clinics c, doctors d WHERE c.id = ?1 AND d.id = ?2");
    st.bind(1, std::string_view(row.clinic_id)).bind(2, std::string_view(row.doctor_id));
    json j{{"id", row.id}, {"status", row.status}, {"starts_at", row.starts_at}, {"clinic", nullptr}, {"doctor", nullptr}};
    if (st.step()) {
        j["clinic"] = st.text(0);
        j["doctor"] = st.text(1);
    }
    return j;
}

json chat_json(const store::ChatMessage& m) {
    return {{"type", "chat"}, {"id", m.id}, {"from", m.sender_type}, {"text", m.text}, {"at", m.sent_at}};
}

json chat_history(store::Database& db, const std::string& session_id) {
    json out = json::array();
    for (const auto& m : store::SessionStore(db).chat(session_id)) out.push_back(chat_json(m));
    return out;
}

}  // namespace

void Hub::hello_patient(Socket& s, const store::SessionRow& row) {
    Room& r = room(row.id);
    // One screen per patient: a newer one takes over (a reload, or the same link on the phone).
    if (Socket* old = find_socket(r.patient_socket); old && old != &s) {
        stop_media(r, *old);
        old->session_id.reset();   // its close must not count as the patient leaving
        close(*old, CloseCode::Replaced, "opened on another screen");
    }
    if (r.rejoin_timer) {
        g_source_remove(r.rejoin_timer);
        r.rejoin_timer = 0;
    }
    store::SessionStore sessions(ctx_.db);
    auto open = sessions.open_participant(row.id, row.patient_id);
    const bool rejoin = open.has_value() && status_of(row) == SessionStatus::InProgress;
    auto participant = open ? *open : sessions.join(row.id, row.patient_id, "patient");
    s.session_id = row.id;
    s.participant_id = participant.id;
    r.patient_socket = s.id;
    r.patient_participant = participant.id;
    if (r.waiting_since.empty() || !open) r.waiting_since = participant.joined_at;
    store::write_audit(ctx_.db, {s.claims.identity, "patient", rejoin ? "call.rejoin" : "waiting_room.enter", row.id, s.address, nullptr});

    auto now = sessions.find(row.id);
    json welcome{{"type", "welcome"}, {"role", "patient"}, {"participant_id", participant.id},
                 {"session", session_info(ctx_.db, *now)}, {"ice_servers", ice_json()},
                 {"chat", chat_history(ctx_.db, row.id)}, {"rejoin", rejoin},
                 {"peer_media", r.media_state["doctor"]}};
    send(s, welcome);
    if (now && now->status != row.status) ctx_.session_changed(*now);   // scheduled → waiting
    if (status_of(*now) == SessionStatus::InProgress) admit_patient(r);
    else send(s, {{"type", "waiting"}, {"since", r.waiting_since}});
    tell_doctors(row.id);
}

void Hub::hello_doctor(Socket& s, const std::optional<std::string>& session_id) {
    json welcome{{"type", "welcome"}, {"role", "doctor"}, {"ice_servers", ice_json()}, {"session", nullptr}};
    if (!session_id) {
        send(s, welcome);
        // The lobby: every waiting room of this doctor's with someone in it.
        for (auto& [id, r] : rooms_)
            if (r->doctor_id == s.claims.identity && r->patient_participant) send(s, waiting_room(id));
        return;
    }
    store::SessionStore sessions(ctx_.db);
    auto row = sessions.find(*session_id);
    if (!row || row->doctor_id != s.claims.identity) {
        close(s, CloseCode::Forbidden, "this is not your consultation");
        return;
    }
    if (ended(s, *row)) return;
    Room& r = room(row->id);
    auto open = sessions.open_participant(row->id, row->doctor_id);
    s.session_id = row->id;
    s.participant_id = open ? open->id : sessions.join(row->id, row->doctor_id, "doctor").id;
    store::write_audit(ctx_.db, {s.claims.identity, "doctor", "waiting_room.open", row->id, s.address, nullptr});
    // The patient hears that the doctor is ready (once per session; SMS or email when on).
    if (ctx_.messaging && status_of(*row) != SessionStatus::InProgress) {
        try {
            ctx_.messaging->notifier().doctor_ready(row->id);
        } catch (const std::exception& e) {
            log::warning(std::string("could not tell the patient the doctor is ready: ") + e.what(), {{"SESSION_ID", row->id}});
        }
    }
    welcome["session"] = session_info(ctx_.db, *row);
    welcome["chat"] = chat_history(ctx_.db, row->id);
    welcome["peer_media"] = r.media_state["patient"];
    welcome["content"] = {{"available", ctx_.probe && ctx_.probe->content.name != "none"}, {"on", r.content_on}};
    send(s, welcome);
    send(s, waiting_room(row->id));
}

// ---------------------------------------------------------------- messages

store::SessionRow Hub::doctor_session(Socket& s, const json& m) {
    std::string id = m.contains("session") ? m.at("session").get<std::string>() : s.session_id.value_or("");
    auto row = id.empty() ? std::nullopt : store::SessionStore(ctx_.db).find(id);
    if (!row) throw domain::not_found("session_not_found", "no such session");
    if (row->doctor_id != s.claims.identity) throw domain::DomainError(domain::DomainError::Kind::Forbidden, "forbidden", "this is another doctor's session");
    return *row;
}

void Hub::handle(Socket& s, const ClientMessage& m) {
    const std::string& t = m.type;
    if (t == "ping") {
        send(s, {{"type", "pong"}});
        return;
    }
    if (t == "answer" || t == "ice") {
        Room* r = s.session_id && rooms_.count(*s.session_id) ? rooms_.at(*s.session_id).get() : nullptr;
        if (!r || !s.peer || !s.offered || !r->call) {
            close(s, CloseCode::Forbidden, t + " before an offer");
            return;
        }
        if (t == "answer") {
            if (auto ok = r->call->set_remote_description(*s.peer, media::SdpType::Answer, m.body.at("sdp")); !ok)
                close(s, CloseCode::BadMessage, "answer refused: " + ok.error());
        } else if (auto c = m.body.at("candidate").get<std::string>(); !c.empty()) {
            r->call->add_remote_candidate(*s.peer, m.body.at("mline").get<unsigned>(), c);
        }
        return;
    }
    if (t == "media") {
        if (!s.session_id || !rooms_.count(*s.session_id)) return;
        Room& r = *rooms_.at(*s.session_id);
        const bool audio = m.body.at("audio"), video = m.body.at("video");
        r.media_state[s.role()] = {{"audio", audio}, {"video", video}};
        if (s.doctor() && r.call) {
            r.call->set_microphone_muted(!audio);
            r.call->set_camera_off(!video);
        }
        to_session(r.session_id, {{"type", "peer_media"}, {"from", s.role()}, {"audio", audio}, {"video", video}},
                   s.patient() ? "doctor" : "patient");
        return;
    }
    if (t == "chat") {
        std::string session_id = s.patient() ? *s.session_id : doctor_session(s, m.body).id;
        const auto text = m.body.at("text").get<std::string>();
        auto trimmed = text.find_first_not_of(" \t\r\n") == std::string::npos;
        if (trimmed || g_utf8_strlen(text.c_str(), -1) > 2000 || !g_utf8_validate(text.c_str(), -1, nullptr)) {
            send(s, {{"type", "error"}, {"code", "invalid_chat"}, {"message", "a chat message is 1-2000 characters"}});
            return;
        }
        auto row = store::SessionStore(ctx_.db).find(session_id);
        if (s.patient() && (!row || status_of(*row) != SessionStatus::InProgress)) {
            send(s, {{"type", "error"}, {"code", "not_admitted"}, {"message", "chat opens when the doctor lets you in"}});
            return;
        }
        if (!row || closed(*row)) throw domain::conflict("session_closed", "this consultation has ended");
        auto saved = store::SessionStore(ctx_.db).add_chat(session_id, s.role(), s.claims.identity, text);
        to_session(session_id, chat_json(saved));
        return;
    }
    if (s.patient()) {
        Room& r = room(*s.session_id);
        if (t == "precheck") {
            json result{{"camera", m.body.at("camera")}, {"microphone", m.body.at("microphone")},
                        {"speaker", m.body.at("speaker")}, {"browser", m.body.value("browser", "")},
                        {"at", domain::now_iso()}};
            store::SessionStore(ctx_.db).set_precheck(*s.participant_id, result);
            tell_doctors(r.session_id);
        } else if (t == "reconnect_media") {
            if (!s.peer) {
                close(s, CloseCode::Forbidden, "no call to reconnect");
                return;
            }
            stop_media(r, s);
            start_media(r, s, false);
        } else if (t == "leave") {
            stop_media(r, s);
            r.patient_socket.clear();
            s.session_id.reset();
            patient_gone(r, true);
            close(s, CloseCode::Normal, "left");
        } else {
            close(s, CloseCode::Forbidden, t + " is for the doctor");
        }
        return;
    }
    // A doctor's screen.
    auto row = doctor_session(s, m.body);
    store::SessionStore sessions(ctx_.db);
    auto reason = m.body.contains("reason") ? std::optional<std::string>(m.body.at("reason")) : std::nullopt;
    if (t == "admit") {
        auto after = sessions.transition(row.id, SessionStatus::InProgress, s.claims.identity);
        store::write_audit(ctx_.db, {s.claims.identity, "doctor", "session.admit", row.id, s.address, nullptr});
        ctx_.session_changed(after);
    } else if (t == "decline" || t == "end") {
        const bool decline = t == "decline";
        auto after = sessions.transition(row.id, decline ? SessionStatus::Cancelled : SessionStatus::Completed,
                                         s.claims.identity,
                                         reason ? reason : std::optional<std::string>(decline ? "declined by the doctor" : "ended by the doctor"));
        store::write_audit(ctx_.db, {s.claims.identity, "doctor", decline ? "session.decline" : "session.end", row.id, s.address, nullptr});
        ctx_.session_changed(after);
    } else if (t == "share") {
        Room& r = room(row.id);
        const bool on = m.body.at("on");
        if (!r.call) {
            send(s, {{"type", "error"}, {"code", "no_call"}, {"message", "share the camera once the call is running"}});
            return;
        }
        if (auto ok = r.call->set_content_shared(on); !ok) {
            send(s, {{"type", "error"}, {"code", "no_content_camera"}, {"message", ok.error().reason}});
            return;
        }
        r.content_on = on;
        store::write_audit(ctx_.db, {s.claims.identity, "doctor", on ? "content.share" : "content.stop", row.id, s.address, nullptr});
        to_session(row.id, {{"type", "content"}, {"on", on}});
    } else if (t == "view") {
        if (status_of(row) != SessionStatus::InProgress || s.session_id != row.id) {
            close(s, CloseCode::Forbidden, "view needs this screen opened on a consultation in progress");
            return;
        }
        Room& r = room(row.id);
        stop_media(r, s);
        start_media(r, s, true);
    } else if (t == "reconnect_media") {
        if (!s.peer || !s.session_id) {
            close(s, CloseCode::Forbidden, "no call to reconnect");
            return;
        }
        Room& r = room(*s.session_id);
        stop_media(r, s);
        start_media(r, s, true);
    } else {
        close(s, CloseCode::Forbidden, t + " is for the patient");
    }
}
void Hub::shutdown() {
    // Whoever is in a call is recorded as having left; the sessions themselves stay
    // as they are, so a doctor can pick up after a restart.
    for (auto& [id, s] : sockets_)
        if (s->participant_id) {
            try {
                store::SessionStore(ctx_.db).leave(*s->participant_id);
            } catch (const std::exception& e) {
                log::warning(std::string("could not record a participant leaving: ") + e.what());
            }
        }
    for (auto& [id, r] : rooms_) {
        if (r->rejoin_timer) g_source_remove(r->rejoin_timer);
        r->rejoin_timer = 0;
        r->call.reset();
    }
    for (auto& [id, s] : sockets_) {
        s->peer.reset();
        close(*s, CloseCode::GoingAway, "the appliance is restarting");
    }
    rooms_.clear();
}

}  // namespace consult::signalling
