#include "appliance/store/rating_store.hpp"

namespace consult::store {

bool RatingStore::add(const std::string& session_id, const std::string& patient_id, int score,
                      const std::optional<std::string>& comment) {
    db_.prepare("INSERT INTO session_ratings(session_id, patient_id, score, comment) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT(session_id) DO NOTHING")
        .bind(1, std::string_view(session_id)).bind(2, std::string_view(patient_id)).bind(3, score).bind(4, comment).run();
    return db_.changes() == 1;
}

std::array<std::int64_t, 5> RatingStore::counts_by_score() {
    std::array<std::int64_t, 5> out{};
    auto st = db_.prepare("SELECT score, count(*) FROM session_ratings GROUP BY score");
    while (st.step())
        if (const auto score = st.integer(0); score >= 1 && score <= 5) out[std::size_t(score - 1)] = st.integer(1);
    return out;
}

}  // namespace consult::store
