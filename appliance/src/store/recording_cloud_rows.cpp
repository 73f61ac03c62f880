#include "appliance/store/recording_cloud_rows.hpp"

#include "appliance/store/records.hpp"

namespace consult::store {

namespace {

nlohmann::json opt(const Statement& st, int col) {
    if (st.is_null(col)) return nullptr;
    return st.text(col);
}

// The clinic of a session: the cloud's row-level security files every row under it.
constexpr const char* kClinicOfSession =
    "(SELECT a.clinic_id FROM video_consultation_sessions s JOIN appointments a ON a.id = s.appointment_id "
    "WHERE s.id = x.session_id)";

}  // namespace

nlohmann::json consent_cloud_row(Database& db, const std::string& consent_id) {
    auto st = db.prepare(std::string("SELECT x.id, ") + kClinicOfSession +
                         ", x.session_id, x.participant_id, x.asked_by, x.asked_at, x.text_version, x.text, x.answer, "
                         "x.answered_at, x.withdrawn_at FROM recording_consents x WHERE x.id = ?1");
    st.bind(1, std::string_view(consent_id));
    if (!st.step()) return nullptr;
    return {{"id", st.text(0)},          {"clinic_id", st.text(1)},   {"session_id", st.text(2)},
            {"participant_id", opt(st, 3)}, {"asked_by", st.text(4)},    {"asked_at", st.text(5)},
            {"text_version", st.text(6)}, {"text", st.text(7)},         {"answer", opt(st, 8)},
            {"answered_at", opt(st, 9)},  {"withdrawn_at", opt(st, 10)}};
}

nlohmann::json recording_cloud_row(Database& db, const std::string& recording_id) {
    // Metadata only: media_file and the parts' files are paths on this box and stay here.
    // storage_object names the uploaded copy until the storage has deleted it; sha256 and
    // uploaded_at stay, the record that it was uploaded.
    auto st = db.prepare(std::string("SELECT x.id, ") + kClinicOfSession +
                         ", x.session_id, x.recording_sid, x.state, x.started_by, x.started_at, x.ended_at, "
                         "x.duration_ms, x.size_bytes, (SELECT count(*) FROM recording_parts p WHERE p.recording_id = x.id), "
                         "x.container, x.codec, x.failure, x.deleted_at, x.deleted_by, x.delete_reason, "
                         "CASE WHEN u.state IN ('done', 'deleting') AND u.uploaded_at IS NOT NULL "
                         "THEN u.bucket || '/' || u.object_path END, "
                         "CASE WHEN u.state IN ('done', 'deleting', 'deleted') THEN u.sha256 END, "
                         "CASE WHEN u.state IN ('done', 'deleting', 'deleted') THEN u.uploaded_at END "
                         "FROM recordings x LEFT JOIN recording_uploads u ON u.recording_id = x.id WHERE x.id = ?1");
    st.bind(1, std::string_view(recording_id));
    if (!st.step()) return nullptr;
    return {{"id", st.text(0)},
            {"clinic_id", st.text(1)},
            {"session_id", st.text(2)},
            {"recording_sid", st.text(3)},
            {"state", st.text(4)},
            {"started_by", st.text(5)},
            {"started_at", st.text(6)},
            {"ended_at", opt(st, 7)},
            {"duration_ms", st.integer(8)},
            {"size_bytes", st.integer(9)},
            {"parts", st.integer(10)},
            {"container", opt(st, 11)},
            {"codec", opt(st, 12)},
            {"failure", opt(st, 13)},
            {"deleted_at", opt(st, 14)},
            {"deleted_by", opt(st, 15)},
            {"delete_reason", opt(st, 16)},
            {"storage_object", opt(st, 17)},
            {"sha256", opt(st, 18)},
            {"uploaded_at", opt(st, 19)}};
}

nlohmann::json access_cloud_row(Database& db, std::int64_t access_id, const std::string& cloud_id) {
    auto st = db.prepare("SELECT x.recording_id, (SELECT a.clinic_id FROM recordings r "
                         "JOIN video_consultation_sessions s ON s.id = r.session_id "
                         "JOIN appointments a ON a.id = s.appointment_id WHERE r.id = x.recording_id), "
                         "x.actor_id, x.actor_role, x.action, x.address, x.at FROM recording_access x WHERE x.id = ?1");
    st.bind(1, access_id);
    if (!st.step()) return nullptr;
    return {{"id", cloud_id},          {"clinic_id", st.text(1)}, {"recording_id", st.text(0)},
            {"actor_id", st.text(2)},  {"actor_role", st.text(3)}, {"action", st.text(4)},
            {"address", st.text(5)},   {"at", st.text(6)}};
}

void queue_consent(Database& db, const std::string& consent_id) {
    auto row = consent_cloud_row(db, consent_id);
    if (!row.is_null()) enqueue_outbox(db, kCloudConsents, consent_id, row);
}

void queue_recording(Database& db, const std::string& recording_id) {
    auto row = recording_cloud_row(db, recording_id);
    if (!row.is_null()) enqueue_outbox(db, kCloudRecordings, recording_id, row);
}

void queue_access(Database& db, std::int64_t access_id) {
    const std::string cloud_id = new_uuid();
    auto row = access_cloud_row(db, access_id, cloud_id);
    if (!row.is_null()) enqueue_outbox(db, kCloudAccess, cloud_id, row);
}

}  // namespace consult::store
