// The rows the outbox sends up, in the clinic system's own columns (tests/cloud/seed_schema.sql
// and cloud/migrations): what the local tables call otherwise is renamed here, what the cloud
// does not have or must not get (other tables' columns, tokens) is left out.
#pragma once

#include "appliance/domain/scheduling.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/records.hpp"

#include <nlohmann/json.hpp>

namespace consult::store {

// video_consultation_sessions: with the seed's twilio_room_sid; recording_sid only once there is one;
// consultation_id only when the appointment names one.
nlohmann::json cloud_session(const SessionRow& s);

// video_consultation_participants: with the seed's participant_sid; user_id (a uuid there) only when one.
nlohmann::json cloud_participant(const ParticipantRow& p);

// video_consultation_timings: the seed's clinic_id (the doctor's) and duration_minutes.
nlohmann::json cloud_timing(Database& db, const domain::Timing& t);

}  // namespace consult::store
