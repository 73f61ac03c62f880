// The recordings made with a patient's consent, in the store: each consent asked and
// how it was answered, the session's recording (its state, parts and composed file)
// and every read of it. Files are named relative to the recordings directory.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct RecordingPart {
    int n = 0;
    std::string file;
    std::string started_at;
    std::optional<std::string> ended_at;
    std::int64_t size_bytes = 0;
};

struct RecordingRow {
    std::string id, session_id, recording_sid, state, started_by, started_at;
    std::optional<std::string> ended_at;
    std::int64_t duration_ms = 0, size_bytes = 0;
    std::optional<std::string> media_file, container, codec, failure;
    std::optional<std::string> deleted_at, deleted_by, delete_reason;
    std::string updated_at;
    std::vector<RecordingPart> parts;
};

struct ConsentRow {
    std::string id, session_id;
    std::optional<std::string> participant_id;
    std::string asked_by, asked_at, text_version, text;
    std::optional<std::string> answer, answered_at, withdrawn_at;
};

struct AccessRow {
    std::int64_t id = 0;
    std::string recording_id, actor_id, actor_role, action, address, at;
};

// "RT" + 32 lower-case hex digits: the shape of a Twilio recording SID.
std::string new_recording_sid();

class RecordingStore {
public:
    explicit RecordingStore(Database& db) : db_(db) {}

    // Consent: a request shown to the patient, then its answer.
    std::string consent_asked(const std::string& session_id, const std::optional<std::string>& participant_id,
                              const std::string& asked_by, const std::string& text_version, const std::string& text);
    void consent_answered(const std::string& consent_id, const std::string& answer);   // given | declined | unanswered
    void consent_withdrawn(const std::string& consent_id);
    std::vector<ConsentRow> consents(const std::string& session_id);

    std::optional<RecordingRow> find(const std::string& id);
    std::optional<RecordingRow> for_session(const std::string& session_id);
    // A new part starts: the session's recording is made (or taken up again after a
    // pause or a deletion) with state `recording`. The part's file is
    // "<session id>/part-<n>.mkv" under the recordings directory.
    std::pair<RecordingRow, RecordingPart> begin_part(const std::string& session_id, const std::string& started_by);
    // The part's file is closed: the recording pauses (until the next part or the end).
    void end_part(const std::string& recording_id, int n, std::int64_t size_bytes);
    void set_state(const std::string& id, const std::string& state, const std::optional<std::string>& failure = {});
    void composed(const std::string& id, const std::string& media_file, std::int64_t duration_ms,
                  std::int64_t size_bytes, const std::string& container, const std::string& codec);
    // The media is gone; the row stays with who and why; no more uploading, and the
    // cloud copy, if any, to be deleted (UploadStore::delete_cloud_copy).
    void deleted(const std::string& id, const std::string& by, const std::string& reason);
    std::vector<RecordingRow> in_state(const std::string& state);
    // The newest recordings first (every state), for the clinic's list.
    std::vector<RecordingRow> newest(int limit);
    // Recordings not deleted whose call ended before `cutoff_iso` (retention).
    std::vector<RecordingRow> ended_before(const std::string& cutoff_iso);

    void access(const std::string& recording_id, const std::string& actor_id, const std::string& actor_role,
                const std::string& action, const std::string& address);
    std::vector<AccessRow> access_log(const std::optional<std::string>& recording_id, int limit);

    // Counts by state, for /metrics.
    std::vector<std::pair<std::string, std::int64_t>> count_by_state();

private:
    std::vector<RecordingPart> parts(const std::string& recording_id);
    std::optional<RecordingRow> select_one(const char* where, const std::string& value);
    Database& db_;
};

nlohmann::json to_json(const RecordingRow& r);
nlohmann::json to_json(const ConsentRow& c);
nlohmann::json to_json(const AccessRow& a);

}  // namespace consult::store
