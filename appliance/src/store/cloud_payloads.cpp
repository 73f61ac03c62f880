#include "appliance/store/cloud_payloads.hpp"

namespace consult::store {

namespace {

// The Twilio-shaped SIDs the local schema derives from a row's id (store migration 11).
std::string sid_of(const char* prefix, const std::string& id) {
    std::string sid = prefix;
    for (char c : id)
        if (c != '-') sid += c;
    return sid;
}

}  // namespace

nlohmann::json cloud_session(const SessionRow& s) {
    auto j = to_json(s);
    for (const char* k : {"clinic_id", "doctor_id", "patient_id", "starts_at"}) j.erase(k);
    j["twilio_room_sid"] = sid_of("RM", s.id);
    // Sent only once there is a recording: a cloud without cloud/migrations/0002 still takes every other session.
    if (!s.recording_sid) j.erase("recording_sid");
    // The seed's column, set by the clinic system on the appointment (cloud/migrations/0009); sent only
    // when known, so a value the clinic wrote on the session itself is never cleared.
    if (!s.consultation_id) j.erase("consultation_id");
    return j;
}

nlohmann::json cloud_participant(const ParticipantRow& p) {
    auto j = to_json(p);
    j["participant_sid"] = sid_of("PA", p.id);
    if (!is_uuid(p.user_id)) j["user_id"] = nullptr;   // an identity that is no clinic record's id
    return j;
}

nlohmann::json cloud_timing(Database& db, const domain::Timing& t) {
    auto clinic = db.prepare("SELECT clinic_id FROM doctors WHERE id = ?1");
    clinic.bind(1, std::string_view(t.doctor_id));
    return {{"id", t.id}, {"clinic_id", clinic.step() ? nlohmann::json(clinic.text(0)) : nlohmann::json(nullptr)},
            {"doctor_id", t.doctor_id}, {"day_of_week", t.day_of_week}, {"start_time", t.start_time},
            {"end_time", t.end_time}, {"duration_minutes", t.slot_duration_minutes}, {"is_active", t.is_active}};
}

}  // namespace consult::store
