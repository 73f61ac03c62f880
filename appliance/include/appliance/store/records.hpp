// Rows as the rest of the appliance sees them, and the two side tables every
// change writes: the outbox (for the cloud) and the audit log.
#pragma once

#include "appliance/domain/scheduling.hpp"
#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct SessionRow {
    std::string id, appointment_id, room_name, status;
    int scheduled_duration_minutes = 30;
    std::optional<std::string> started_at, ended_at, doctor_joined_at, patient_joined_at;
    std::optional<std::string> recording_url, end_reason, notes;
    std::optional<std::string> recording_sid;   // from its recording, once one started
    std::optional<std::int64_t> duration_seconds;
    std::string created_at, updated_at;
    // From the appointment it belongs to.
    std::string clinic_id, doctor_id, patient_id, starts_at;
    std::optional<std::string> consultation_id;   // the clinic system's consultation, when its cloud names one
};

struct ParticipantRow {
    std::string id, session_id, user_id, user_type, joined_at;
    std::optional<std::string> left_at, connection_quality;
};

struct AppointmentRow {
    std::string id, clinic_id, doctor_id, patient_id, starts_at, consultation_type, status;
    int duration_minutes = 30;
    std::optional<std::string> video_session_id, reason;
    std::string created_at, updated_at;
};

nlohmann::json to_json(const SessionRow& s);
nlohmann::json to_json(const ParticipantRow& p);
nlohmann::json to_json(const AppointmentRow& a);
nlohmann::json to_json(const domain::Timing& t);

// Queues a row for the cloud, in the caller's transaction.
void enqueue_outbox(Database& db, const std::string& table, const std::string& row_id, const nlohmann::json& payload);

struct AuditEntry {
    std::string actor;
    std::string role;           // doctor | patient | admin | system
    std::string action;         // e.g. session.read, token.issue, session.admit
    std::optional<std::string> session_id;
    std::string client_address;
    nlohmann::json detail = nullptr;
};
void write_audit(Database& db, const AuditEntry& e);

// Tokens given up before they expire; expired ones are forgotten.
void save_revoked_token(Database& db, const std::string& jti, std::int64_t expires_at);
struct RevokedToken {
    std::string jti;
    std::int64_t expires_at;
};
std::vector<RevokedToken> load_revoked_tokens(Database& db, std::int64_t now);

}  // namespace consult::store
