// Video consultation sessions and their participants. Every change is one
// transaction that also records the transition and queues the row for the cloud.
#pragma once

#include "appliance/domain/session_lifecycle.hpp"
#include "appliance/domain/sweeper.hpp"
#include "appliance/store/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct SessionFilter {
    std::optional<std::string> from_iso, to_iso;   // appointment start in [from, to)
    std::optional<std::string> status;
    std::optional<std::string> doctor_id;
};

// The names a session's screens show: the clinic's and the doctor's to the patient,
// the patient's to the doctor only.
struct SessionNames {
    std::optional<std::string> clinic, doctor, patient;
};

struct ChatMessage {
    std::string id, session_id, sender_type, sender_id, text, sent_at;
};

class SessionStore {
public:
    explicit SessionStore(Database& db) : db_(db) {}

    // A new session for a video or hybrid appointment that has no live session.
    SessionRow create(const std::string& appointment_id, int duration_minutes, const std::string& actor);
    std::optional<SessionRow> find(const std::string& id);
    std::optional<SessionRow> find_by_room(const std::string& room_name);
    std::vector<SessionRow> list(const SessionFilter& filter);
    SessionNames names(const SessionRow& s);

    // Moves a session along the state machine (DomainError when illegal).
    SessionRow transition(const std::string& id, domain::SessionStatus to, const std::string& actor,
                          const std::optional<std::string>& reason = std::nullopt,
                          const std::optional<std::string>& notes = std::nullopt);

    // Consultation notes written after the call (the kiosk); queued for the cloud.
    SessionRow set_notes(const std::string& id, const std::string& notes);

    // In the caller's transaction: the session's row goes to the cloud again (its
    // recording started, so it now has a recording_sid).
    void queue_for_cloud(const std::string& id);
    // In the caller's transaction: where the clinic's storage keeps the recording
    // ("<bucket>/<object path>"; nothing once it is deleted there), queued for the cloud.
    void set_recording_url(const std::string& id, const std::optional<std::string>& url);

    // A doctor or patient joins: a participant row; the patient's first join puts
    // a scheduled session into the waiting room.
    ParticipantRow join(const std::string& session_id, const std::string& user_id, const std::string& user_type);
    // `at` (ISO time) when the leaving happened earlier than this write (a retried write).
    void leave(const std::string& participant_id, const std::optional<std::string>& at = std::nullopt);
    std::vector<ParticipantRow> participants(const std::string& session_id);
    // This user's participant row that has not left yet, if any (a rejoin reuses it).
    std::optional<ParticipantRow> open_participant(const std::string& session_id, const std::string& user_id);
    // The engine's latest view of the link, and the patient's pre-call check (JSON).
    void set_connection_quality(const std::string& participant_id, const nlohmann::json& quality);
    void set_precheck(const std::string& participant_id, const nlohmann::json& precheck);
    std::optional<nlohmann::json> precheck(const std::string& participant_id);

    // Chat during the call, kept with the session.
    ChatMessage add_chat(const std::string& session_id, const std::string& sender_type, const std::string& sender_id,
                         const std::string& text);
    std::vector<ChatMessage> chat(const std::string& session_id);

    // For the sweeper.
    std::vector<domain::LiveSession> live_sessions();
    std::vector<domain::BookedVideoSlot> unfinished_video_slots();
    void mark_no_show(const std::string& appointment_id);

private:
    std::optional<ParticipantRow> participant(const std::string& id);
    SessionRow load(const std::string& id);   // inside a transaction
    SessionRow apply_transition(const std::string& id, domain::SessionStatus to, const std::string& actor,
                                const std::optional<std::string>& reason, const std::optional<std::string>& notes);
    void record_transition(const std::string& id, const std::optional<std::string>& from, const std::string& to,
                           const std::string& actor, const std::optional<std::string>& reason);
    Database& db_;
};

}  // namespace consult::store
