// Who a session's messages go to, and which sessions a reminder or the note after
// the call is due for.
#pragma once

#include "appliance/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

// A session with its patient's addresses and its clinic, as the messages need them.
struct MessageRecipient {
    std::string room, session_status, created_at, starts_at, patient_id, clinic_name;
    std::optional<std::string> phone, email, clinic_phone;
    std::optional<std::string> notify_via;    // the patient's own choice: sms, email, both, none
    std::optional<std::string> short_code;    // the session's /j/ code, when it has one
};
std::optional<MessageRecipient> find_recipient(Database& db, const std::string& session_id);

// Scheduled sessions the patient has not joined whose appointment starts in [from, to]
// (ISO times), soonest first; one whose appointment still has a change queued for the
// journey is left out (a move is told to the patient before anything about the new time).
struct UpcomingSession {
    std::string id, starts_at, created_at;
};
std::vector<UpcomingSession> open_sessions_starting(Database& db, const std::string& from, const std::string& to);

// Sessions completed since `since` (ISO time).
std::vector<std::string> sessions_completed_since(Database& db, const std::string& since);

}  // namespace consult::store
