// The waiting room's rules (room/waiting_room.hpp) applied to screens: hello from a
// patient or a doctor, admission, decline, leave, a dropped socket, the rejoin window
// running out, and the end of a consultation. What it changes goes to the store
// (participant rows, audit), to the screens and out as room events.
#include "hub_parts.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"

#include <set>
#include <utility>

namespace consult::signalling {

using json = nlohmann::json;
using domain::SessionStatus;

namespace {

json session_info(store::Database& db, const store::SessionRow& row) {
    auto names = store::SessionStore(db).names(row);
    return {{"id", row.id}, {"status", row.status}, {"starts_at", row.starts_at},
            {"clinic", names.clinic ? json(*names.clinic) : json(nullptr)},
            {"doctor", names.doctor ? json(*names.doctor) : json(nullptr)}};
}

json chat_history(store::Database& db, const std::string& session_id) {
    json out = json::array();
    for (const auto& m : store::SessionStore(db).chat(session_id))
        out.push_back({{"type", "chat"}, {"id", m.id}, {"from", m.sender_type}, {"text", m.text}, {"at", m.sent_at}});
    return out;
}

std::string iso(room::Clock::time_point at, room::Clock::time_point now) {
    const auto ago = std::chrono::duration_cast<std::chrono::seconds>(now - at).count();
    return domain::iso_utc(std::time(nullptr) - std::time_t(ago));
}

}  // namespace

void Hub::publish(room::EventKind kind, const Room& r, const std::string& role, const std::string& participant,
                  const std::string& identity, const std::string& track) {
    deps_.events.publish({kind, r.session_id, role, participant, identity, track, "", 0});
}

bool Hub::ended(Socket& s, const store::SessionRow& row) {
    if (!closed(row)) return false;
    send(s, {{"type", "ended"}, {"reason", row.end_reason.value_or("this consultation has ended")}});
    close(s, CloseCode::Ended, "this consultation has ended");
    return true;
}

void Hub::hello_patient(Socket& s, const store::SessionRow& row, const std::string& device) {
    Room& r = room(row.id);
    r.patient_id = row.patient_id;
    // The store first: if it is busy, nothing has changed yet and the page says hello again.
    store::SessionStore sessions(deps_.db);
    if (!r.patient_participant) {
        auto open = sessions.open_participant(row.id, row.patient_id);
        r.patient_participant = open ? open->id : sessions.join(row.id, row.patient_id, "patient").id;
    }
    auto arrival = r.waiting.arrive(s.id, device, status_of(row) == SessionStatus::InProgress, deps_.now());
    s.session_id = row.id;   // from here its close is the patient going
    s.participant_id = r.patient_participant;
    if (arrival.replaced)
        if (Socket* old = find_socket(*arrival.replaced); old && old != &s) {
            stop_media(r, *old);
            old->session_id.reset();   // its close is not the patient leaving
            close(*old, CloseCode::Replaced, "opened again on this device");
        }
    audit({s.claims.identity, "patient", arrival.rejoin ? "call.rejoin" : "waiting_room.enter", row.id,
                                  s.address, arrival.admitted ? json(nullptr) : json{{"reason", room::reason_code(arrival.reason)}}});

    auto now_row = sessions.find(row.id);
    send(s, {{"type", "welcome"}, {"role", "patient"}, {"participant_id", *r.patient_participant},
             {"session", session_info(deps_.db, *now_row)}, {"ice_servers", ice_json()},
             {"chat", chat_history(deps_.db, row.id)}, {"rejoin", arrival.rejoin},
             {"peer_media", r.media_state["doctor"]}});
    if (now_row && now_row->status != row.status) deps_.session_changed(*now_row);   // scheduled → waiting
    if (arrival.admitted) {
        send(s, {{"type", "admitted"}});
        join_started(r);
        start_media(r, s, false);
        // Back within the window: the consent holds; a question still open is asked again.
        send(s, recording_state(r));
        if (r.consent.pending()) send(s, consent_request());
        // Not a rejoin: the doctor let the patient in while their page was away.
        if (!arrival.rejoin)
            publish(room::EventKind::ParticipantConnected, r, "patient", r.patient_participant.value_or(""), r.patient_id);
    } else {
        send(s, {{"type", "waiting"}, {"since", domain::now_iso()}, {"reason", room::reason_code(arrival.reason)}});
    }
    tell_doctors(row.id);
}

void Hub::hello_doctor(Socket& s, const std::optional<std::string>& session_id) {
    json welcome{{"type", "welcome"}, {"role", "doctor"}, {"ice_servers", ice_json()}, {"session", nullptr}};
    if (!session_id) {
        send(s, welcome);
        // The lobby: every waiting room of this doctor's with someone in it.
        for (auto& [id, r] : rooms_)
            if (r->doctor_id == s.claims.identity && r->waiting.present()) send(s, waiting_room(id));
        return;
    }
    store::SessionStore sessions(deps_.db);
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
    if (!open) publish(room::EventKind::ParticipantConnected, r, "doctor", *s.participant_id, s.claims.identity);
    audit({s.claims.identity, "doctor", "waiting_room.open", row->id, s.address, nullptr});
    // The patient hears that the doctor is ready (once per session; SMS or email when on).
    if (deps_.doctor_ready && status_of(*row) != SessionStatus::InProgress) {
        try {
            deps_.doctor_ready(row->id);
        } catch (const std::exception& e) {
            log::warning(std::string("could not tell the patient the doctor is ready: ") + e.what(), {{"SESSION_ID", row->id}});
        }
    }
    welcome["session"] = session_info(deps_.db, *row);
    welcome["chat"] = chat_history(deps_.db, row->id);
    welcome["peer_media"] = r.media_state["patient"];
    welcome["content"] = {{"available", deps_.content_available && deps_.content_available()}, {"on", r.content_on}};
    send(s, welcome);
    send(s, waiting_room(row->id));
    send(s, recording_state(r));
}

store::SessionRow Hub::doctor_session(Socket& s, const std::optional<std::string>& session) {
    const std::string id = session.value_or(s.session_id.value_or(""));
    auto row = id.empty() ? std::nullopt : store::SessionStore(deps_.db).find(id);
    if (!row) throw domain::not_found("session_not_found", "no such session");
    if (row->doctor_id != s.claims.identity)
        throw domain::DomainError(domain::DomainError::Kind::Forbidden, "forbidden", "this is another doctor's session");
    return *row;
}

// ---------------------------------------------------------------- the doctor's decisions

void Hub::on(Socket& s, const msg::Admit& m) {
    auto row = doctor_session(s, m.session);
    Room& r = room(row.id);
    if (status_of(row) == SessionStatus::InProgress) {
        // Someone waits again (after leaving, too late to rejoin, another device).
        if (!admit_screen(r, m.screen))
            throw domain::conflict("nobody_waiting", "nobody is waiting to be let in");
    } else {
        r.pending_admit = m.screen;
        auto after = store::SessionStore(deps_.db).transition(row.id, SessionStatus::InProgress, s.claims.identity);
        deps_.session_changed(after);   // admits (session_changed → admit_screen)
    }
    audit({s.claims.identity, "doctor", "session.admit", row.id, s.address,
                                  m.screen ? json{{"screen", *m.screen}} : json(nullptr)});
}

void Hub::on(Socket& s, const msg::Decline& m) {
    auto row = doctor_session(s, m.session);
    Room& r = room(row.id);
    // While the call runs, declining turns one waiting screen away; before, it cancels.
    if (status_of(row) == SessionStatus::InProgress) {
        const std::optional<std::string> which =
            m.screen ? m.screen : (r.waiting.waiting().empty() ? std::nullopt : std::optional(r.waiting.waiting().back().screen));
        if (!which || !r.waiting.turn_away(*which)) throw domain::conflict("nobody_waiting", "nobody is waiting to be let in");
        if (Socket* other = find_socket(*which)) {
            const std::string reason = m.reason.value_or("the call goes on on the device that is already in it");
            other->session_id.reset();
            close(*other, CloseCode::TurnedAway, reason);
        }
        audit({s.claims.identity, "doctor", "waiting_room.turn_away", row.id, s.address, nullptr});
        if (!r.waiting.present()) patient_gone(r);
        tell_doctors(row.id);
        return;
    }
    auto after = store::SessionStore(deps_.db).transition(row.id, SessionStatus::Cancelled, s.claims.identity,
                                                          m.reason.value_or("declined by the doctor"));
    audit({s.claims.identity, "doctor", "session.decline", row.id, s.address, nullptr});
    deps_.session_changed(after);
}

void Hub::on(Socket& s, const msg::End& m) {
    auto row = doctor_session(s, m.session);
    auto after = store::SessionStore(deps_.db).transition(row.id, SessionStatus::Completed, s.claims.identity,
                                                          m.reason.value_or("ended by the doctor"));
    audit({s.claims.identity, "doctor", "session.end", row.id, s.address, nullptr});
    deps_.session_changed(after);
}

bool Hub::admit_waiting(const std::string& session_id) {
    Room* r = find_room(session_id);
    return r && admit_screen(*r, std::nullopt);
}

bool Hub::admit_screen(Room& r, const std::optional<std::string>& which) {
    auto admission = r.waiting.admit(which);
    if (!admission) return false;
    consent_over(r, "the patient was let in again");   // a new admission asks again
    if (admission->replaced)
        if (Socket* old = find_socket(*admission->replaced)) {
            stop_media(r, *old);
            old->session_id.reset();
            close(*old, CloseCode::Replaced, "the call moved to another device");
        }
    if (Socket* in = find_socket(admission->admitted)) {
        send(*in, {{"type", "admitted"}});
        join_started(r);
        start_media(r, *in, false);
        publish(room::EventKind::ParticipantConnected, r, "patient", r.patient_participant.value_or(""), r.patient_id);
    }
    tell_doctors(r.session_id);
    return true;
}

// ---------------------------------------------------------------- the patient going

void Hub::patient_left(Room& r, Socket& s) {
    consent_over(r, "the patient left the call");
    stop_media(r, s);
    auto departure = r.waiting.left(s.id);
    s.session_id.reset();
    if (departure.was_admitted)
        publish(room::EventKind::ParticipantDisconnected, r, "patient", r.patient_participant.value_or(""), r.patient_id);
    if (departure.patient_gone) patient_gone(r);
    tell_doctors(r.session_id);
}

void Hub::patient_dropped(Room& r, Socket& s) {
    auto departure = r.waiting.dropped(s.id, deps_.now());
    if (departure.window_opened) {
        auto ends = r.waiting.window_ends();
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*ends - deps_.now()) + std::chrono::milliseconds(50);
        deps_.later(wait, [this, session = r.session_id, alive = std::weak_ptr<bool>(alive_)] {
            if (alive.lock()) expire_rejoin(session);
        });
    } else if (departure.was_admitted) {
        publish(room::EventKind::ParticipantDisconnected, r, "patient", r.patient_participant.value_or(""), r.patient_id);
        call_dropped(r);
    }
    if (departure.patient_gone) patient_gone(r);
    tell_doctors(r.session_id);
}

void Hub::expire_rejoin(const std::string& session_id) {
    Room* r = find_room(session_id);
    if (!r || !r->waiting.expire(deps_.now())) return;
    consent_over(*r, "the patient did not come back");
    publish(room::EventKind::ParticipantDisconnected, *r, "patient", r->patient_participant.value_or(""), r->patient_id);
    call_dropped(*r);
    if (!r->waiting.present()) patient_gone(*r);
    tell_doctors(session_id);
}

// Nobody of the patient's is here any more: their participant row is closed.
void Hub::patient_gone(Room& r) {
    join_over(r);
    if (!r.patient_participant) return;
    write("patient left " + r.session_id,
          [p = *r.patient_participant, at = domain::now_iso()](store::Database& db) { store::SessionStore(db).leave(p, at); });
    r.patient_participant.reset();
}

// The room ends, or the appliance stops: whoever is still in it has left, as a clinic's
// backend expects to hear before room-ended (or a second participant-connected).
void Hub::everyone_left(Room& r) {
    std::set<std::string> doctors;
    for (auto& [id, s] : sockets_)
        if (s->doctor() && s->session_id == r.session_id && s->participant_id && doctors.insert(*s->participant_id).second)
            publish(room::EventKind::ParticipantDisconnected, r, "doctor", *s->participant_id, s->claims.identity);
    if (r.patient_participant && r.waiting.admitted_screen())
        publish(room::EventKind::ParticipantDisconnected, r, "patient", *r.patient_participant, r.patient_id);
}

void Hub::end_room(const std::string& session_id, const std::string& reason) {
    std::vector<Socket*> bound;
    for (auto& [id, s] : sockets_)
        if (s->session_id == session_id) bound.push_back(s.get());
    Room* r = find_room(session_id);
    if (r) {
        everyone_left(*r);
        join_over(*r);
    }
    for (Socket* s : bound) {
        if (r) stop_media(*r, *s);
        send(*s, {{"type", "ended"}, {"reason", reason}});
        s->session_id.reset();
        close(*s, CloseCode::Ended, reason);
    }
    if (r) {
        consent_over(*r, "the consultation ended");
        finish_part(*r);
        if (deps_.recordings) {
            try {
                deps_.recordings->call_ended(session_id);   // composed after the call
            } catch (const std::exception& e) {
                log::error(std::string("could not queue a recording for composing: ") + e.what(), {{"SESSION_ID", session_id}});
            }
        }
        // The doctor's other screens (Today, the waiting room) hear that nobody waits here any more.
        r->waiting.clear();
        tell_doctors(session_id);
        room::Event e{room::EventKind::RoomEnded, session_id, "", "", "", "", reason, 0};
        deps_.events.publish(e);
        rooms_.erase(session_id);   // the store closed the participant rows with the session
    }
}

// ---------------------------------------------------------------- what the doctor sees

json Hub::waiting_room(const std::string& session_id) {
    json patients = json::array();
    auto row = store::SessionStore(deps_.db).find(session_id);
    Room* r = find_room(session_id);
    if (row && r && r->waiting.present()) {
        store::SessionStore sessions(deps_.db);
        const auto name = sessions.names(*row).patient;
        const json precheck = r->patient_participant ? sessions.precheck(*r->patient_participant).value_or(nullptr) : json(nullptr);
        // One entry per screen: the one in the call (or within its rejoin window), then
        // each waiting one with why it waits.
        auto entry = [&](const std::string& screen, bool in_call, const std::string& since, std::optional<room::WaitReason> why) {
            return json{{"participant_id", r->patient_participant.value_or("")},
                        {"screen", screen},
                        {"name", name ? json(*name) : json(nullptr)},
                        {"since", since},
                        {"connected", !screen.empty()},
                        {"in_call", in_call},
                        {"precheck", precheck},
                        {"media", r->media_state["patient"]},
                        {"reason", why ? json(room::reason_code(*why)) : json(nullptr)},
                        {"reason_text", why ? json(room::reason_text(*why)) : json(nullptr)}};
        };
        if (r->waiting.admission_held())
            patients.push_back(entry(r->waiting.admitted_screen().value_or(""), true, row->started_at.value_or(""), std::nullopt));
        const auto now = deps_.now();
        for (const auto& w : r->waiting.waiting()) patients.push_back(entry(w.screen, false, iso(w.since, now), w.reason));
    }
    return {{"type", "waiting_room"}, {"session", session_id}, {"status", row ? row->status : "unknown"}, {"patients", patients}};
}

void Hub::tell_doctors(const std::string& session_id) { to_session(session_id, waiting_room(session_id), "doctor"); }

void Hub::session_changed(const store::SessionRow& row) {
    to_session(row.id, {{"type", "state"}, {"session", row.id}, {"status", row.status}});
    if (closed(row)) {
        end_room(row.id, row.end_reason.value_or(row.status == "cancelled" ? "cancelled" : "ended"));
        return;
    }
    if (status_of(row) == SessionStatus::InProgress)
        if (Room* r = find_room(row.id); r && !r->waiting.admission_held()) {
            auto which = r->pending_admit;
            r->pending_admit.reset();
            if (!admit_screen(*r, which)) r->waiting.admit_next_arrival();
        }
}

}  // namespace consult::signalling
