#include "appliance/store/recording_store.hpp"

#include "appliance/store/recording_cloud_rows.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/upload_store.hpp"

#include <openssl/rand.h>

#include <cstdio>

namespace consult::store {

namespace {

constexpr const char* kSelect =
    "SELECT id, session_id, recording_sid, state, started_by, started_at, ended_at, duration_ms, size_bytes, "
    "media_file, container, codec, failure, deleted_at, deleted_by, delete_reason, updated_at FROM recordings ";

RecordingRow read_row(const Statement& st) {
    RecordingRow r;
    r.id = st.text(0);
    r.session_id = st.text(1);
    r.recording_sid = st.text(2);
    r.state = st.text(3);
    r.started_by = st.text(4);
    r.started_at = st.text(5);
    r.ended_at = st.optional_text(6);
    r.duration_ms = st.integer(7);
    r.size_bytes = st.integer(8);
    r.media_file = st.optional_text(9);
    r.container = st.optional_text(10);
    r.codec = st.optional_text(11);
    r.failure = st.optional_text(12);
    r.deleted_at = st.optional_text(13);
    r.deleted_by = st.optional_text(14);
    r.delete_reason = st.optional_text(15);
    r.updated_at = st.text(16);
    return r;
}

std::string_view sv(const std::string& s) { return s; }

}  // namespace

std::string new_recording_sid() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw StoreError(0, "no randomness for a recording id");
    std::string out = "RT";
    char hex[3];
    for (unsigned char b : bytes) {
        std::snprintf(hex, sizeof hex, "%02x", b);
        out += hex;
    }
    return out;
}

std::string RecordingStore::consent_asked(const std::string& session_id, const std::optional<std::string>& participant_id,
                                          const std::string& asked_by, const std::string& text_version,
                                          const std::string& text) {
    const std::string id = new_uuid();
    Transaction tx(db_);
    db_.prepare("INSERT INTO recording_consents(id, session_id, participant_id, asked_by, asked_at, text_version, text) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .bind(1, sv(id)).bind(2, sv(session_id)).bind(3, participant_id).bind(4, sv(asked_by))
        .bind(5, sv(now_iso())).bind(6, sv(text_version)).bind(7, sv(text))
        .run();
    queue_consent(db_, id);
    tx.commit();
    return id;
}

void RecordingStore::consent_answered(const std::string& consent_id, const std::string& answer) {
    Transaction tx(db_);
    db_.prepare("UPDATE recording_consents SET answer = ?2, answered_at = ?3 WHERE id = ?1 AND answer IS NULL")
        .bind(1, sv(consent_id)).bind(2, sv(answer)).bind(3, sv(now_iso()))
        .run();
    if (db_.changes() > 0) queue_consent(db_, consent_id);
    tx.commit();
}

void RecordingStore::consent_withdrawn(const std::string& consent_id) {
    Transaction tx(db_);
    db_.prepare("UPDATE recording_consents SET answer = 'withdrawn', withdrawn_at = ?2 "
                "WHERE id = ?1 AND answer = 'given'")
        .bind(1, sv(consent_id)).bind(2, sv(now_iso()))
        .run();
    if (db_.changes() > 0) queue_consent(db_, consent_id);
    tx.commit();
}

std::vector<ConsentRow> RecordingStore::consents(const std::string& session_id) {
    auto st = db_.prepare("SELECT id, session_id, participant_id, asked_by, asked_at, text_version, text, answer, "
                          "answered_at, withdrawn_at FROM recording_consents WHERE session_id = ?1 ORDER BY asked_at, rowid");
    st.bind(1, sv(session_id));
    std::vector<ConsentRow> out;
    while (st.step()) {
        ConsentRow c;
        c.id = st.text(0);
        c.session_id = st.text(1);
        c.participant_id = st.optional_text(2);
        c.asked_by = st.text(3);
        c.asked_at = st.text(4);
        c.text_version = st.text(5);
        c.text = st.text(6);
        c.answer = st.optional_text(7);
        c.answered_at = st.optional_text(8);
        c.withdrawn_at = st.optional_text(9);
        out.push_back(std::move(c));
    }
    return out;
}

std::vector<RecordingPart> RecordingStore::parts(const std::string& recording_id) {
    auto st = db_.prepare("SELECT n, file, started_at, ended_at, size_bytes FROM recording_parts "
                          "WHERE recording_id = ?1 ORDER BY n");
    st.bind(1, sv(recording_id));
    std::vector<RecordingPart> out;
    while (st.step()) out.push_back({int(st.integer(0)), st.text(1), st.text(2), st.optional_text(3), st.integer(4)});
    return out;
}

std::optional<RecordingRow> RecordingStore::select_one(const char* where, const std::string& value) {
    auto st = db_.prepare(std::string(kSelect) + where);
    st.bind(1, sv(value));
    if (!st.step()) return std::nullopt;
    RecordingRow r = read_row(st);
    r.parts = parts(r.id);
    return r;
}

std::optional<RecordingRow> RecordingStore::find(const std::string& id) { return select_one("WHERE id = ?1", id); }

std::optional<RecordingRow> RecordingStore::for_session(const std::string& session_id) {
    return select_one("WHERE session_id = ?1", session_id);
}

std::pair<RecordingRow, RecordingPart> RecordingStore::begin_part(const std::string& session_id,
                                                                  const std::string& started_by) {
    Transaction tx(db_);
    const std::string now = now_iso();
    db_.prepare("INSERT INTO recordings(id, session_id, recording_sid, state, started_by, started_at, updated_at) "
                "VALUES (?1, ?2, ?3, 'recording', ?4, ?5, ?5) "
                "ON CONFLICT(session_id) DO UPDATE SET state = 'recording', ended_at = NULL, failure = NULL, "
                "updated_at = excluded.updated_at")
        .bind(1, sv(new_uuid())).bind(2, sv(session_id)).bind(3, sv(new_recording_sid())).bind(4, sv(started_by))
        .bind(5, sv(now))
        .run();
    auto row = select_one("WHERE session_id = ?1", session_id);
    if (!row) throw StoreError(0, "the recording row vanished");
    RecordingPart part;
    part.n = row->parts.empty() ? 1 : row->parts.back().n + 1;
    part.file = session_id + "/part-" + std::to_string(part.n) + ".mkv";
    part.started_at = now;
    db_.prepare("INSERT INTO recording_parts(recording_id, n, file, started_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(1, sv(row->id)).bind(2, part.n).bind(3, sv(part.file)).bind(4, sv(now))
        .run();
    queue_recording(db_, row->id);
    if (part.n == 1) SessionStore(db_).queue_for_cloud(session_id);   // the session's recording_sid
    tx.commit();
    row->parts.push_back(part);
    row->state = "recording";
    return {*row, part};
}

void RecordingStore::end_part(const std::string& recording_id, int n, std::int64_t size_bytes) {
    Transaction tx(db_);
    const std::string now = now_iso();
    db_.prepare("UPDATE recording_parts SET ended_at = ?3, size_bytes = ?4 WHERE recording_id = ?1 AND n = ?2 "
                "AND ended_at IS NULL")
        .bind(1, sv(recording_id)).bind(2, n).bind(3, sv(now)).bind(4, size_bytes)
        .run();
    db_.prepare("UPDATE recordings SET state = 'paused', ended_at = ?2, "
                "size_bytes = (SELECT coalesce(sum(size_bytes), 0) FROM recording_parts WHERE recording_id = ?1), "
                "updated_at = ?2 WHERE id = ?1 AND state = 'recording'")
        .bind(1, sv(recording_id)).bind(2, sv(now))
        .run();
    queue_recording(db_, recording_id);
    tx.commit();
}

void RecordingStore::set_state(const std::string& id, const std::string& state, const std::optional<std::string>& failure) {
    Transaction tx(db_);
    db_.prepare("UPDATE recordings SET state = ?2, failure = ?3, updated_at = ?4 WHERE id = ?1 AND state <> 'deleted'")
        .bind(1, sv(id)).bind(2, sv(state)).bind(3, failure).bind(4, sv(now_iso()))
        .run();
    if (db_.changes() > 0) queue_recording(db_, id);
    tx.commit();
}

void RecordingStore::composed(const std::string& id, const std::string& media_file, std::int64_t duration_ms,
                              std::int64_t size_bytes, const std::string& container, const std::string& codec) {
    Transaction tx(db_);
    db_.prepare("UPDATE recordings SET state = 'ready', media_file = ?2, duration_ms = ?3, size_bytes = ?4, "
                "container = ?5, codec = ?6, failure = NULL, updated_at = ?7 WHERE id = ?1 AND state = 'composing'")
        .bind(1, sv(id)).bind(2, sv(media_file)).bind(3, duration_ms).bind(4, size_bytes).bind(5, sv(container))
        .bind(6, sv(codec)).bind(7, sv(now_iso()))
        .run();
    if (db_.changes() > 0) {
        // Ready: queued for the clinic's storage in the same commit (cloud/recording_uploader.hpp).
        db_.prepare("INSERT INTO recording_uploads(recording_id) VALUES (?1) ON CONFLICT(recording_id) DO UPDATE SET "
                    "state = 'pending', upload_url = NULL, sha256 = NULL, size_bytes = NULL, attempts = 0, "
                    "next_attempt_at = NULL, last_error = NULL, updated_at = excluded.updated_at")
            .bind(1, sv(id)).run();
        queue_recording(db_, id);
    }
    tx.commit();
}

void RecordingStore::deleted(const std::string& id, const std::string& by, const std::string& reason) {
    const std::string now = now_iso();
    Transaction tx(db_);
    db_.prepare("UPDATE recordings SET state = 'deleted', media_file = NULL, size_bytes = 0, deleted_at = ?2, "
                "deleted_by = ?3, delete_reason = ?4, updated_at = ?2 WHERE id = ?1")
        .bind(1, sv(id)).bind(2, sv(now)).bind(3, sv(by)).bind(4, sv(reason))
        .run();
    db_.prepare("DELETE FROM recording_parts WHERE recording_id = ?1").bind(1, sv(id)).run();
    // Nothing more goes up; what did (or may have) is deleted from the storage later.
    UploadStore(db_).delete_cloud_copy(id);
    queue_recording(db_, id);
    tx.commit();
}

std::vector<RecordingRow> RecordingStore::in_state(const std::string& state) {
    auto st = db_.prepare(std::string(kSelect) + "WHERE state = ?1 ORDER BY started_at");
    st.bind(1, sv(state));
    std::vector<RecordingRow> out;
    while (st.step()) out.push_back(read_row(st));
    for (auto& r : out) r.parts = parts(r.id);
    return out;
}

std::vector<RecordingRow> RecordingStore::newest(int limit) {
    auto st = db_.prepare(std::string(kSelect) + "ORDER BY started_at DESC, rowid DESC LIMIT ?1");
    st.bind(1, limit);
    std::vector<RecordingRow> out;
    while (st.step()) out.push_back(read_row(st));
    for (auto& r : out) r.parts = parts(r.id);
    return out;
}

std::vector<RecordingRow> RecordingStore::ended_before(const std::string& cutoff_iso) {
    auto st = db_.prepare(std::string(kSelect) +
                          "WHERE state IN ('paused', 'ready', 'failed') AND ended_at IS NOT NULL AND ended_at < ?1 "
                          "ORDER BY ended_at");
    st.bind(1, sv(cutoff_iso));
    std::vector<RecordingRow> out;
    while (st.step()) out.push_back(read_row(st));
    for (auto& r : out) r.parts = parts(r.id);
    return out;
}

void RecordingStore::access(const std::string& recording_id, const std::string& actor_id, const std::string& actor_role,
                            const std::string& action, const std::string& address) {
    Transaction tx(db_);
    db_.prepare("INSERT INTO recording_access(recording_id, actor_id, actor_role, action, address, at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, sv(recording_id)).bind(2, sv(actor_id)).bind(3, sv(actor_role)).bind(4, sv(action))
        .bind(5, sv(address)).bind(6, sv(now_iso()))
        .run();
    queue_access(db_, sqlite3_last_insert_rowid(db_.raw()));
    tx.commit();
}

std::vector<AccessRow> RecordingStore::access_log(const std::optional<std::string>& recording_id, int limit) {
    auto st = db_.prepare("SELECT id, recording_id, actor_id, actor_role, action, address, at FROM recording_access "
                          "WHERE ?1 IS NULL OR recording_id = ?1 ORDER BY id DESC LIMIT ?2");
    st.bind(1, recording_id).bind(2, limit);
    std::vector<AccessRow> out;
    while (st.step())
        out.push_back({st.integer(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6)});
    return out;
}

std::vector<std::pair<std::string, std::int64_t>> RecordingStore::count_by_state() {
    auto st = db_.prepare("SELECT state, count(*) FROM recordings GROUP BY state ORDER BY state");
    std::vector<std::pair<std::string, std::int64_t>> out;
    while (st.step()) out.emplace_back(st.text(0), st.integer(1));
    return out;
}

nlohmann::json to_json(const RecordingRow& r) {
    auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"id", r.id},
            {"session_id", r.session_id},
            {"recording_sid", r.recording_sid},
            {"state", r.state},
            {"started_by", r.started_by},
            {"started_at", r.started_at},
            {"ended_at", opt(r.ended_at)},
            {"duration_ms", r.duration_ms},
            {"size_bytes", r.size_bytes},
            {"parts", r.parts.size()},
            {"container", opt(r.container)},
            {"codec", opt(r.codec)},
            {"failure", opt(r.failure)},
            {"deleted_at", opt(r.deleted_at)},
            {"deleted_by", opt(r.deleted_by)},
            {"delete_reason", opt(r.delete_reason)},
            {"updated_at", r.updated_at}};
}

nlohmann::json to_json(const ConsentRow& c) {
    auto opt = [](const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
    return {{"id", c.id},           {"session_id", c.session_id},     {"participant_id", opt(c.participant_id)},
            {"asked_by", c.asked_by}, {"asked_at", c.asked_at},       {"text_version", c.text_version},
            {"answer", opt(c.answer)}, {"answered_at", opt(c.answered_at)}, {"withdrawn_at", opt(c.withdrawn_at)}};
}

nlohmann::json to_json(const AccessRow& a) {
    return {{"id", a.id},         {"recording_id", a.recording_id}, {"actor_id", a.actor_id},
            {"actor_role", a.actor_role}, {"action", a.action},     {"address", a.address}, {"at", a.at}};
}

}  // namespace consult::store
