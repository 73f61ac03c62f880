#include "appliance/store/records.hpp"

namespace consult::store {

namespace {

nlohmann::json opt(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json to_json(const SessionRow& s) {
    // Built field by field: the initializer-list form copies every value twice and was
    // the largest part of answering a session read.
    nlohmann::json j = nlohmann::json::object();
    auto put = [&j](const char* key, nlohmann::json value) { j.emplace(key, std::move(value)); };
    put("id", s.id);
    put("appointment_id", s.appointment_id);
    put("room_name", s.room_name);
    put("status", s.status);
    put("scheduled_duration_minutes", s.scheduled_duration_minutes);
    put("started_at", opt(s.started_at));
    put("ended_at", opt(s.ended_at));
    put("duration_seconds", s.duration_seconds ? nlohmann::json(*s.duration_seconds) : nlohmann::json(nullptr));
    put("doctor_joined_at", opt(s.doctor_joined_at));
    put("patient_joined_at", opt(s.patient_joined_at));
    put("recording_url", opt(s.recording_url));
    put("recording_sid", opt(s.recording_sid));
    put("consultation_id", opt(s.consultation_id));
    put("end_reason", opt(s.end_reason));
    put("notes", opt(s.notes));
    put("created_at", s.created_at);
    put("updated_at", s.updated_at);
    put("clinic_id", s.clinic_id);
    put("doctor_id", s.doctor_id);
    put("patient_id", s.patient_id);
    put("starts_at", s.starts_at);
    return j;
}

nlohmann::json to_json(const ParticipantRow& p) {
    nlohmann::json quality = nullptr;
    if (p.connection_quality) quality = nlohmann::json::parse(*p.connection_quality, nullptr, false);
    return {{"id", p.id}, {"session_id", p.session_id}, {"user_id", p.user_id}, {"user_type", p.user_type},
            {"joined_at", p.joined_at}, {"left_at", opt(p.left_at)}, {"connection_quality", quality}};
}

nlohmann::json to_json(const AppointmentRow& a) {
    return {{"id", a.id}, {"clinic_id", a.clinic_id}, {"doctor_id", a.doctor_id}, {"patient_id", a.patient_id},
            {"starts_at", a.starts_at}, {"duration_minutes", a.duration_minutes},
            {"consultation_type", a.consultation_type}, {"status", a.status},
            {"video_session_id", opt(a.video_session_id)}, {"reason", opt(a.reason)},
            {"created_at", a.created_at}, {"updated_at", a.updated_at}};
}

nlohmann::json to_json(const domain::Timing& t) {
    return {{"id", t.id}, {"doctor_id", t.doctor_id}, {"day_of_week", t.day_of_week}, {"start_time", t.start_time},
            {"end_time", t.end_time}, {"duration_minutes", t.slot_duration_minutes},
            {"slot_duration_minutes", t.slot_duration_minutes}, {"is_active", t.is_active}};
}

void enqueue_outbox(Database& db, const std::string& table, const std::string& row_id, const nlohmann::json& payload) {
    db.prepare("INSERT INTO outbox(table_name, row_id, payload, idempotency_key) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, std::string_view(table))
        .bind(2, std::string_view(row_id))
        .bind(3, std::string_view(payload.dump()))
        .bind(4, std::string_view(table + ":" + row_id + ":" + new_uuid()))
        .run();
}

void write_audit(Database& db, const AuditEntry& e) {
    db.prepare("INSERT INTO audit_log(actor, role, action, session_id, client_address, detail) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, std::string_view(e.actor))
        .bind(2, std::string_view(e.role))
        .bind(3, std::string_view(e.action))
        .bind(4, e.session_id)
        .bind(5, std::string_view(e.client_address))
        .bind(6, e.detail.is_null() ? std::optional<std::string>() : std::optional<std::string>(e.detail.dump()))
        .run();
}

void save_revoked_token(Database& db, const std::string& jti, std::int64_t expires_at) {
    db.prepare("INSERT OR IGNORE INTO revoked_tokens(jti, expires_at) VALUES (?1, ?2)")
        .bind(1, std::string_view(jti)).bind(2, expires_at).run();
}

std::vector<RevokedToken> load_revoked_tokens(Database& db, std::int64_t now) {
    db.prepare("DELETE FROM revoked_tokens WHERE expires_at <= ?1").bind(1, now).run();
    std::vector<RevokedToken> out;
    auto st = db.prepare("SELECT jti, expires_at FROM revoked_tokens");
    while (st.step()) out.push_back({st.text(0), st.integer(1)});
    return out;
}

}  // namespace consult::store
