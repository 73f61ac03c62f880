#include "appliance/store/session_store.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/room_name.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/store/cloud_payloads.hpp"

namespace consult::store {

namespace {

using domain::SessionStatus;

constexpr const char* kSelect =
    "SELECT s.id, s.appointment_id, s.room_name, s.status, s.scheduled_duration_minutes, s.started_at, s.ended_at, "
    "s.doctor_joined_at, s.patient_joined_at, s.recording_url, s.end_reason, s.notes, s.duration_seconds, "
    "s.created_at, s.updated_at, a.clinic_id, a.doctor_id, a.patient_id, a.starts_at, r.recording_sid, a.consultation_id "
    "FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id "
    "LEFT JOIN recordings r ON r.session_id = s.id ";

SessionRow read_session(const Statement& st) {
    SessionRow r;
    r.id = st.text(0);
    r.appointment_id = st.text(1);
    r.room_name = st.text(2);
    r.status = st.text(3);
    r.scheduled_duration_minutes = int(st.integer(4));
    r.started_at = st.optional_text(5);
    r.ended_at = st.optional_text(6);
    r.doctor_joined_at = st.optional_text(7);
    r.patient_joined_at = st.optional_text(8);
    r.recording_url = st.optional_text(9);
    r.end_reason = st.optional_text(10);
    r.notes = st.optional_text(11);
    if (!st.is_null(12)) r.duration_seconds = st.integer(12);
    r.created_at = st.text(13);
    r.updated_at = st.text(14);
    r.clinic_id = st.text(15);
    r.doctor_id = st.text(16);
    r.patient_id = st.text(17);
    r.starts_at = st.text(18);
    r.recording_sid = st.optional_text(19);
    r.consultation_id = st.optional_text(20);
    return r;
}

std::optional<SessionRow> select_one(Database& db, const char* where, const std::string& value) {
    auto st = db.prepare(std::string(kSelect) + where);
    st.bind(1, std::string_view(value));
    if (!st.step()) return std::nullopt;
    return read_session(st);
}

}  // namespace

SessionRow SessionStore::load(const std::string& id) {
    auto s = select_one(db_, "WHERE s.id = ?1", id);
    if (!s) throw domain::not_found("session_not_found", "no session " + id);
    return *s;
}

void SessionStore::record_transition(const std::string& id, const std::optional<std::string>& from,
                                     const std::string& to, const std::string& actor,
                                     const std::optional<std::string>& reason) {
    db_.prepare("INSERT INTO session_transitions(session_id, from_status, to_status, actor, reason, at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, std::string_view(id)).bind(2, from).bind(3, std::string_view(to))
        .bind(4, std::string_view(actor)).bind(5, reason).bind(6, std::string_view(domain::now_iso()))
        .run();
}

SessionRow SessionStore::create(const std::string& appointment_id, int duration_minutes, const std::string& actor) {
    Transaction tx(db_);
    auto a = db_.prepare("SELECT consultation_type, status FROM appointments WHERE id = ?1");
    a.bind(1, std::string_view(appointment_id));
    if (!a.step()) throw domain::invalid("appointment_not_found", "no appointment " + appointment_id, "appointment_id");
    if (a.text(0) == "in-person")
        throw domain::invalid("not_a_video_appointment", "this appointment is in person, not video", "appointment_id");
    if (a.text(1) == "cancelled" || a.text(1) == "completed" || a.text(1) == "no-show")
        throw domain::conflict("appointment_closed", "this appointment is " + a.text(1));
    auto live = db_.prepare("SELECT id FROM video_consultation_sessions WHERE appointment_id = ?1 "
                            "AND status IN ('scheduled', 'waiting', 'in-progress')");
    live.bind(1, std::string_view(appointment_id));
    if (live.step()) throw domain::conflict("session_exists", "this appointment already has session " + live.text(0));

    const std::string id = new_uuid(), now = domain::now_iso();
    db_.prepare("INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status, "
                "scheduled_duration_minutes, created_at, updated_at) VALUES (?1, ?2, ?3, 'scheduled', ?4, ?5, ?5)")
        .bind(1, std::string_view(id)).bind(2, std::string_view(appointment_id))
        .bind(3, std::string_view(domain::new_room_name())).bind(4, duration_minutes).bind(5, std::string_view(now))
        .run();
    db_.prepare("UPDATE appointments SET video_session_id = ?1, updated_at = ?2 WHERE id = ?3")
        .bind(1, std::string_view(id)).bind(2, std::string_view(now)).bind(3, std::string_view(appointment_id))
        .run();
    record_transition(id, std::nullopt, "scheduled", actor, std::nullopt);
    SessionRow row = load(id);
    enqueue_outbox(db_, "video_consultation_sessions", id, cloud_session(row));
    tx.commit();
    return row;
}

std::optional<SessionRow> SessionStore::find(const std::string& id) { return select_one(db_, "WHERE s.id = ?1", id); }

std::optional<SessionRow> SessionStore::find_by_room(const std::string& room) {
    return select_one(db_, "WHERE s.room_name = ?1", room);
}

std::vector<SessionRow> SessionStore::list(const SessionFilter& f) {
    std::string sql = std::string(kSelect) +
                      "WHERE (?1 IS NULL OR a.starts_at >= ?1) AND (?2 IS NULL OR a.starts_at < ?2) "
                      "AND (?3 IS NULL OR s.status = ?3) AND (?4 IS NULL OR a.doctor_id = ?4) "
                      "ORDER BY a.starts_at, s.created_at LIMIT 1000";
    auto st = db_.prepare(sql);
    st.bind(1, f.from_iso).bind(2, f.to_iso).bind(3, f.status).bind(4, f.doctor_id);
    std::vector<SessionRow> out;
    while (st.step()) out.push_back(read_session(st));
    return out;
}

SessionRow SessionStore::transition(const std::string& id, SessionStatus to, const std::string& actor,
                                    const std::optional<std::string>& reason, const std::optional<std::string>& notes) {
    Transaction tx(db_);
    SessionRow row = apply_transition(id, to, actor, reason, notes);
    tx.commit();
    return row;
}

SessionRow SessionStore::set_notes(const std::string& id, const std::string& notes) {
    Transaction tx(db_);
    db_.prepare("UPDATE video_consultation_sessions SET notes = ?1, updated_at = ?2 WHERE id = ?3")
        .bind(1, std::string_view(notes)).bind(2, std::string_view(domain::now_iso())).bind(3, std::string_view(id))
        .run();
    SessionRow row = load(id);
    enqueue_outbox(db_, "video_consultation_sessions", id, cloud_session(row));
    tx.commit();
    return row;
}

void SessionStore::queue_for_cloud(const std::string& id) {
    enqueue_outbox(db_, "video_consultation_sessions", id, cloud_session(load(id)));
}

void SessionStore::set_recording_url(const std::string& id, const std::optional<std::string>& url) {
    db_.prepare("UPDATE video_consultation_sessions SET recording_url = ?1, updated_at = ?2 WHERE id = ?3")
        .bind(1, url).bind(2, std::string_view(domain::now_iso())).bind(3, std::string_view(id))
        .run();
    queue_for_cloud(id);
}

SessionRow SessionStore::apply_transition(const std::string& id, SessionStatus to, const std::string& actor,
                                          const std::optional<std::string>& reason,
                                          const std::optional<std::string>& notes) {
    SessionRow s = load(id);
    auto from = domain::parse_session_status(s.status);
    if (!from) throw domain::conflict("invalid_state", "session has unknown status " + s.status);
    if (auto why = domain::refuse_transition(*from, to)) throw domain::conflict("invalid_transition", *why);

    const std::string now = domain::now_iso();
    const std::string to_s(domain::to_string(to));
    auto up = db_.prepare(
        "UPDATE video_consultation_sessions SET status = ?1, updated_at = ?2, "
        "started_at = CASE WHEN ?1 = 'in-progress' THEN ?2 ELSE started_at END, "
        "ended_at = CASE WHEN ?1 IN ('completed', 'cancelled') THEN ?2 ELSE ended_at END, "
        "duration_seconds = CASE WHEN ?1 = 'completed' AND started_at IS NOT NULL THEN "
        "  CAST(round((julianday(?2) - julianday(started_at)) * 86400) AS INTEGER) ELSE duration_seconds END, "
        "end_reason = COALESCE(?3, end_reason), notes = COALESCE(?4, notes) WHERE id = ?5");
    up.bind(1, std::string_view(to_s)).bind(2, std::string_view(now)).bind(3, reason).bind(4, notes)
        .bind(5, std::string_view(id)).run();
    if (to == SessionStatus::Completed)
        db_.prepare("UPDATE appointments SET status = 'completed', updated_at = ?1 WHERE id = ?2")
            .bind(1, std::string_view(now)).bind(2, std::string_view(s.appointment_id)).run();
    if (domain::is_closed(to))
        db_.prepare("UPDATE video_consultation_participants SET left_at = ?1 WHERE session_id = ?2 AND left_at IS NULL")
            .bind(1, std::string_view(now)).bind(2, std::string_view(id)).run();
    record_transition(id, s.status, to_s, actor, reason);
    SessionRow row = load(id);
    enqueue_outbox(db_, "video_consultation_sessions", id, cloud_session(row));
    return row;
}

ParticipantRow SessionStore::join(const std::string& session_id, const std::string& user_id, const std::string& user_type) {
    Transaction tx(db_);
    SessionRow s = load(session_id);
    auto status = domain::parse_session_status(s.status);
    if (!status || domain::is_closed(*status)) throw domain::conflict("session_closed", "this consultation has ended");
    if (user_type == "patient" && *status == SessionStatus::Scheduled)
        apply_transition(session_id, SessionStatus::Waiting, user_id, std::nullopt, std::nullopt);
    const std::string id = new_uuid(), now = domain::now_iso();
    db_.prepare("INSERT INTO video_consultation_participants(id, session_id, user_id, user_type, joined_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5)")
        .bind(1, std::string_view(id)).bind(2, std::string_view(session_id)).bind(3, std::string_view(user_id))
        .bind(4, std::string_view(user_type)).bind(5, std::string_view(now)).run();
    const char* column = user_type == "doctor" ? "doctor_joined_at" : "patient_joined_at";
    db_.prepare(std::string("UPDATE video_consultation_sessions SET ") + column + " = COALESCE(" + column +
                ", ?1), updated_at = ?1 WHERE id = ?2")
        .bind(1, std::string_view(now)).bind(2, std::string_view(session_id)).run();
    ParticipantRow p{id, session_id, user_id, user_type, now, std::nullopt, std::nullopt};
    enqueue_outbox(db_, "video_consultation_participants", id, cloud_participant(p));
    enqueue_outbox(db_, "video_consultation_sessions", session_id, cloud_session(load(session_id)));
    tx.commit();
    return p;
}

void SessionStore::leave(const std::string& participant_id, const std::optional<std::string>& at) {
    Transaction tx(db_);
    db_.prepare("UPDATE video_consultation_participants SET left_at = ?1 WHERE id = ?2 AND left_at IS NULL")
        .bind(1, std::string_view(at.value_or(domain::now_iso()))).bind(2, std::string_view(participant_id)).run();
    if (db_.changes() > 0)
        if (auto p = participant(participant_id))
            enqueue_outbox(db_, "video_consultation_participants", participant_id, cloud_participant(*p));
    tx.commit();
}

namespace {
constexpr const char* kParticipantColumns =
    "SELECT id, session_id, user_id, user_type, joined_at, left_at, connection_quality "
    "FROM video_consultation_participants ";

ParticipantRow read_participant(Statement& st) {
    return {st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.optional_text(5), st.optional_text(6)};
}
}  // namespace

std::optional<ParticipantRow> SessionStore::participant(const std::string& id) {
    auto st = db_.prepare(std::string(kParticipantColumns) + "WHERE id = ?1");
    st.bind(1, std::string_view(id));
    if (!st.step()) return std::nullopt;
    return read_participant(st);
}

std::optional<ParticipantRow> SessionStore::open_participant(const std::string& session_id, const std::string& user_id) {
    auto st = db_.prepare(std::string(kParticipantColumns) +
                          "WHERE session_id = ?1 AND user_id = ?2 AND left_at IS NULL ORDER BY joined_at DESC LIMIT 1");
    st.bind(1, std::string_view(session_id)).bind(2, std::string_view(user_id));
    if (!st.step()) return std::nullopt;
    return read_participant(st);
}

void SessionStore::set_connection_quality(const std::string& participant_id, const nlohmann::json& quality) {
    db_.prepare("UPDATE video_consultation_participants SET connection_quality = ?1 WHERE id = ?2")
        .bind(1, std::string_view(quality.dump())).bind(2, std::string_view(participant_id)).run();
}

void SessionStore::set_precheck(const std::string& participant_id, const nlohmann::json& precheck) {
    db_.prepare("UPDATE video_consultation_participants SET precheck = ?1 WHERE id = ?2")
        .bind(1, std::string_view(precheck.dump())).bind(2, std::string_view(participant_id)).run();
}

std::optional<nlohmann::json> SessionStore::precheck(const std::string& participant_id) {
    auto st = db_.prepare("SELECT precheck FROM video_consultation_participants WHERE id = ?1 AND precheck IS NOT NULL");
    st.bind(1, std::string_view(participant_id));
    if (!st.step()) return std::nullopt;
    return nlohmann::json::parse(st.text(0), nullptr, false);
}

ChatMessage SessionStore::add_chat(const std::string& session_id, const std::string& sender_type,
                                   const std::string& sender_id, const std::string& text) {
    ChatMessage m{new_uuid(), session_id, sender_type, sender_id, text, domain::now_iso()};
    db_.prepare("INSERT INTO chat_messages(id, session_id, sender_type, sender_id, text, sent_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, std::string_view(m.id)).bind(2, std::string_view(m.session_id))
        .bind(3, std::string_view(m.sender_type)).bind(4, std::string_view(m.sender_id))
        .bind(5, std::string_view(m.text)).bind(6, std::string_view(m.sent_at)).run();
    return m;
}

std::vector<ChatMessage> SessionStore::chat(const std::string& session_id) {
    auto st = db_.prepare("SELECT id, session_id, sender_type, sender_id, text, sent_at FROM chat_messages "
                          "WHERE session_id = ?1 ORDER BY sent_at, rowid LIMIT 5000");
    st.bind(1, std::string_view(session_id));
    std::vector<ChatMessage> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5)});
    return out;
}

std::vector<ParticipantRow> SessionStore::participants(const std::string& session_id) {
    auto st = db_.prepare(std::string(kParticipantColumns) + "WHERE session_id = ?1 ORDER BY joined_at");
    st.bind(1, std::string_view(session_id));
    std::vector<ParticipantRow> out;
    while (st.step()) out.push_back(read_participant(st));
    return out;
}

std::vector<domain::LiveSession> SessionStore::live_sessions() {
    auto st = db_.prepare("SELECT id, status, started_at, scheduled_duration_minutes FROM video_consultation_sessions "
                          "WHERE status = 'in-progress'");
    std::vector<domain::LiveSession> out;
    while (st.step())
        out.push_back({st.text(0), SessionStatus::InProgress,
                       st.is_null(2) ? std::nullopt : domain::parse_iso(st.text(2)), int(st.integer(3))});
    return out;
}

std::vector<domain::BookedVideoSlot> SessionStore::unfinished_video_slots() {
    auto st = db_.prepare(
        "SELECT a.id, a.starts_at, a.duration_minutes, "
        "  EXISTS (SELECT 1 FROM video_consultation_sessions x WHERE x.appointment_id = a.id "
        "          AND x.patient_joined_at IS NOT NULL), s.id, s.status "
        "FROM appointments a LEFT JOIN video_consultation_sessions s ON s.id = a.video_session_id "
        "WHERE a.consultation_type IN ('video', 'hybrid') AND a.status IN ('scheduled', 'confirmed')");
    std::vector<domain::BookedVideoSlot> out;
    while (st.step()) {
        auto start = domain::parse_iso(st.text(1));
        if (!start) continue;
        domain::BookedVideoSlot b{st.text(0), *start, int(st.integer(2)), st.integer(3) != 0, st.optional_text(4),
                                  std::nullopt};
        if (!st.is_null(5)) b.session_status = domain::parse_session_status(st.text(5));
        out.push_back(b);
    }
    return out;
}

void SessionStore::mark_no_show(const std::string& appointment_id) {
    Transaction tx(db_);
    const std::string now = domain::now_iso();
    db_.prepare("UPDATE appointments SET status = 'no-show', updated_at = ?1 WHERE id = ?2")
        .bind(1, std::string_view(now)).bind(2, std::string_view(appointment_id)).run();
    if (db_.changes() > 0)
        enqueue_outbox(db_, "appointments", appointment_id,
                       {{"id", appointment_id}, {"status", "no-show"}, {"updated_at", now}});
    auto s = db_.prepare("SELECT id FROM video_consultation_sessions WHERE appointment_id = ?1 AND status = 'scheduled'");
    s.bind(1, std::string_view(appointment_id));
    if (s.step()) apply_transition(s.text(0), SessionStatus::Cancelled, "system", std::string("no-show"), std::nullopt);
    tx.commit();
}

SessionNames SessionStore::names(const SessionRow& s) {
    auto st = db_.prepare("SELECT (SELECT name FROM clinics WHERE id = ?1), (SELECT full_name FROM doctors WHERE id = ?2), "
                          "(SELECT full_name FROM patients WHERE id = ?3)");
    st.bind(1, std::string_view(s.clinic_id)).bind(2, std::string_view(s.doctor_id)).bind(3, std::string_view(s.patient_id));
    SessionNames out;
    if (st.step()) {
        out.clinic = st.optional_text(0);
        out.doctor = st.optional_text(1);
        out.patient = st.optional_text(2);
    }
    return out;
}

}  // namespace consult::store
