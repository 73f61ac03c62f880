// Patients' ratings of their consultations (migration 13): one per session, sent to the
// clinic cloud through the outbox (consult_session_ratings, cloud/migrations/0008).
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace consult::store {

class RatingStore {
public:
    explicit RatingStore(Database& db) : db_(db) {}
    static constexpr const char* kCloudTable = "consult_session_ratings";
    // False when the session already has its rating. The rating and its outbox row are
    // written together.
    bool add(const std::string& session_id, const std::string& patient_id, int score,
             const std::optional<std::string>& comment);
    std::array<std::int64_t, 5> counts_by_score();   // [0] is 1 star
    // The cloud's row for a session's rating, or null.
    nlohmann::json cloud_row(const std::string& session_id);

private:
    Database& db_;
};

}  // namespace consult::store
