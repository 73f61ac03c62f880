#include "appliance/store/upload_store.hpp"

#include "appliance/store/recording_cloud_rows.hpp"
#include "appliance/store/session_store.hpp"

namespace consult::store {

namespace {

std::string_view sv(const std::string& s) { return s; }

}  // namespace

std::optional<UploadJob> UploadStore::next_due(const std::string& now_iso) {
    auto st = db_.prepare(
        "SELECT u.recording_id, r.session_id, r.recording_sid, a.clinic_id, r.media_file, u.bucket, u.object_path, "
        "u.upload_url, u.sha256, u.size_bytes, u.upsert, u.attempts "
        "FROM recording_uploads u JOIN recordings r ON r.id = u.recording_id "
        "JOIN video_consultation_sessions s ON s.id = r.session_id JOIN appointments a ON a.id = s.appointment_id "
        "WHERE u.state = 'pending' AND r.state = 'ready' AND r.media_file IS NOT NULL "
        "AND (u.next_attempt_at IS NULL OR u.next_attempt_at <= ?1) ORDER BY u.created_at, u.rowid LIMIT 1");
    st.bind(1, sv(now_iso));
    if (!st.step()) return std::nullopt;
    UploadJob j;
    j.recording_id = st.text(0);
    j.session_id = st.text(1);
    j.recording_sid = st.text(2);
    j.clinic_id = st.text(3);
    j.media_file = st.text(4);
    j.bucket = st.optional_text(5);
    j.object_path = st.optional_text(6);
    j.upload_url = st.optional_text(7);
    j.sha256 = st.optional_text(8);
    if (!st.is_null(9)) j.size_bytes = st.integer(9);
    j.upsert = st.integer(10) != 0;
    j.attempts = int(st.integer(11));
    return j;
}

void UploadStore::hashed(const std::string& recording_id, std::int64_t size, const std::string& sha256) {
    db_.prepare("UPDATE recording_uploads SET size_bytes = ?2, sha256 = ?3, updated_at = ?4 WHERE recording_id = ?1")
        .bind(1, sv(recording_id)).bind(2, size).bind(3, sv(sha256)).bind(4, sv(now_iso()))
        .run();
}

void UploadStore::created(const std::string& recording_id, const std::string& bucket, const std::string& object_path,
                          const std::string& upload_url) {
    db_.prepare("UPDATE recording_uploads SET bucket = ?2, object_path = ?3, upload_url = ?4, updated_at = ?5 "
                "WHERE recording_id = ?1")
        .bind(1, sv(recording_id)).bind(2, sv(bucket)).bind(3, sv(object_path)).bind(4, sv(upload_url))
        .bind(5, sv(now_iso()))
        .run();
}

void UploadStore::restart(const std::string& recording_id, bool upsert) {
    db_.prepare("UPDATE recording_uploads SET upload_url = NULL, upsert = ?2, updated_at = ?3 WHERE recording_id = ?1")
        .bind(1, sv(recording_id)).bind(2, upsert ? 1 : 0).bind(3, sv(now_iso()))
        .run();
}

void UploadStore::retry_at(const std::string& recording_id, const std::string& error, const std::string& next_iso) {
    db_.prepare("UPDATE recording_uploads SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3, "
                "updated_at = ?4 WHERE recording_id = ?1")
        .bind(1, sv(recording_id)).bind(2, sv(error)).bind(3, sv(next_iso)).bind(4, sv(now_iso()))
        .run();
}

void UploadStore::failed(const std::string& recording_id, const std::string& error) {
    db_.prepare("UPDATE recording_uploads SET state = 'failed', attempts = attempts + 1, last_error = ?2, "
                "next_attempt_at = NULL, updated_at = ?3 WHERE recording_id = ?1")
        .bind(1, sv(recording_id)).bind(2, sv(error)).bind(3, sv(now_iso()))
        .run();
}

void UploadStore::done(const std::string& recording_id, const std::string& bucket, const std::string& object_path) {
    Transaction tx(db_);
    const std::string now = now_iso();
    // The object's place is written again: a run that found it already there never created it.
    db_.prepare("UPDATE recording_uploads SET state = 'done', bucket = ?3, object_path = ?4, upload_url = NULL, "
                "last_error = NULL, next_attempt_at = NULL, uploaded_at = ?2, updated_at = ?2 "
                "WHERE recording_id = ?1 AND state = 'pending'")
        .bind(1, sv(recording_id)).bind(2, sv(now)).bind(3, sv(bucket)).bind(4, sv(object_path))
        .run();
    if (db_.changes() == 0) throw StoreError(0, "the upload is no longer wanted (its recording was deleted)");
    std::string session_id, object;
    {
        auto st = db_.prepare("SELECT r.session_id, u.bucket || '/' || u.object_path FROM recording_uploads u "
                              "JOIN recordings r ON r.id = u.recording_id WHERE u.recording_id = ?1");
        st.bind(1, sv(recording_id));
        if (!st.step()) throw StoreError(0, "the upload's recording vanished");
        session_id = st.text(0);
        object = st.text(1);
    }
    SessionStore(db_).set_recording_url(session_id, object);
    queue_recording(db_, recording_id);
    tx.commit();
}

bool UploadStore::pending(const std::string& recording_id) {
    auto st = db_.prepare("SELECT 1 FROM recording_uploads WHERE recording_id = ?1 AND state = 'pending'");
    st.bind(1, sv(recording_id));
    return st.step();
}

void UploadStore::delete_cloud_copy(const std::string& recording_id) {
    // No object path: no upload was ever created, so the storage has nothing of it.
    db_.prepare("DELETE FROM recording_uploads WHERE recording_id = ?1 AND object_path IS NULL")
        .bind(1, sv(recording_id)).run();
    db_.prepare("UPDATE recording_uploads SET state = 'deleting', upload_url = NULL, attempts = 0, "
                "next_attempt_at = NULL, last_error = NULL, updated_at = ?2 "
                "WHERE recording_id = ?1 AND state IN ('pending', 'done', 'failed')")
        .bind(1, sv(recording_id)).bind(2, sv(now_iso()))
        .run();
}

std::optional<CloudCopy> UploadStore::next_deletion(const std::string& now_iso) {
    auto st = db_.prepare(
        "SELECT u.recording_id, r.session_id, u.bucket, u.object_path, u.attempts "
        "FROM recording_uploads u JOIN recordings r ON r.id = u.recording_id "
        "WHERE u.state = 'deleting' AND (u.next_attempt_at IS NULL OR u.next_attempt_at <= ?1) "
        "ORDER BY u.updated_at, u.rowid LIMIT 1");
    st.bind(1, sv(now_iso));
    if (!st.step()) return std::nullopt;
    return CloudCopy{st.text(0), st.text(1), st.text(2), st.text(3), int(st.integer(4))};
}

void UploadStore::cloud_copy_deleted(const std::string& recording_id) {
    Transaction tx(db_);
    const std::string now = now_iso();
    db_.prepare("UPDATE recording_uploads SET state = 'deleted', last_error = NULL, next_attempt_at = NULL, "
                "deleted_at = ?2, updated_at = ?2 WHERE recording_id = ?1 AND state = 'deleting'")
        .bind(1, sv(recording_id)).bind(2, sv(now))
        .run();
    if (db_.changes() == 0) return;
    std::string session_id;
    bool named = false;
    {
        auto st = db_.prepare("SELECT s.id, s.recording_url IS NOT NULL FROM recordings r "
                              "JOIN video_consultation_sessions s ON s.id = r.session_id WHERE r.id = ?1");
        st.bind(1, sv(recording_id));
        if (!st.step()) throw StoreError(0, "the deleted copy's recording vanished");
        session_id = st.text(0);
        named = st.integer(1) != 0;
    }
    if (named) SessionStore(db_).set_recording_url(session_id, std::nullopt);
    queue_recording(db_, recording_id);
    tx.commit();
}

std::vector<std::pair<std::string, std::int64_t>> UploadStore::count_by_state() {
    auto st = db_.prepare("SELECT state, count(*) FROM recording_uploads GROUP BY state ORDER BY state");
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (st.step()) out.emplace_back(st.text(0), st.integer(1));
    return out;
}

}  // namespace consult::store
