// What the clinic's cloud gets of a recording, queued in the caller's transaction
// (cloud/migrations/0002_recordings.sql): every consent asked and its answer, the
// recording's metadata (never a path on this box) and every access to it. Each row
// carries its clinic, read from the session's appointment.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace consult::store {

inline constexpr const char* kCloudConsents = "recording_consents";
inline constexpr const char* kCloudRecordings = "recordings";
inline constexpr const char* kCloudAccess = "recording_access";

// The rows as the cloud takes them (nothing when the row does not exist).
nlohmann::json consent_cloud_row(Database& db, const std::string& consent_id);
nlohmann::json recording_cloud_row(Database& db, const std::string& recording_id);
// Access rows are numbered on the box; in the cloud, where many boxes write, each gets
// a UUID when it is queued (they never change, so it is queued once).
nlohmann::json access_cloud_row(Database& db, std::int64_t access_id, const std::string& cloud_id);

void queue_consent(Database& db, const std::string& consent_id);
void queue_recording(Database& db, const std::string& recording_id);
void queue_access(Database& db, std::int64_t access_id);

}  // namespace consult::store
