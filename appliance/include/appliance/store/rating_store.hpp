// Patients' ratings of their consultations (migration 13): one per session.
#pragma once

#include "appliance/store/database.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace consult::store {

class RatingStore {
public:
    explicit RatingStore(Database& db) : db_(db) {}
    // False when the session already has its rating.
    bool add(const std::string& session_id, const std::string& patient_id, int score,
             const std::optional<std::string>& comment);
    std::array<std::int64_t, 5> counts_by_score();   // [0] is 1 star

private:
    Database& db_;
};

}  // namespace consult::store
