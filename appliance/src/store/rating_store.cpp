#include "appliance/store/rating_store.hpp"

#include "appliance/store/records.hpp"

namespace consult::store {

bool RatingStore::add(const std::string& session_id, const std::string& patient_id, int score,
                      const std::optional<std::string>& comment) {
    Transaction tx(db_);
    db_.prepare("INSERT INTO session_ratings(session_id, patient_id, score, comment) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT(session_id) DO NOTHING")
        .bind(1, std::string_view(session_id)).bind(2, std::string_view(patient_id)).bind(3, score).bind(4, comment).run();
    if (db_.changes() != 1) return false;
    if (auto row = cloud_row(session_id); !row.is_null()) enqueue_outbox(db_, kCloudTable, session_id, row);
    tx.commit();
    return true;
}

// The cloud's row (cloud/migrations/0008): filed under the clinic of the session's
// appointment; none for a session with no appointment (the cloud has no such session).
nlohmann::json RatingStore::cloud_row(const std::string& session_id) {
    auto st = db_.prepare("SELECT r.session_id, a.clinic_id, r.patient_id, r.score, r.comment, r.created_at "
                          "FROM session_ratings r JOIN video_consultation_sessions s ON s.id = r.session_id "
                          "JOIN appointments a ON a.id = s.appointment_id WHERE r.session_id = ?1");
    st.bind(1, std::string_view(session_id));
    if (!st.step()) return nullptr;
    return {{"id", st.text(0)},
            {"clinic_id", st.text(1)},
            {"patient_id", st.text(2)},
            {"score", st.integer(3)},
            {"comment", st.is_null(4) ? nlohmann::json(nullptr) : nlohmann::json(st.text(4))},
            {"rated_at", st.text(5)}};
}

std::array<std::int64_t, 5> RatingStore::counts_by_score() {
    std::array<std::int64_t, 5> out{};
    auto st = db_.prepare("SELECT score, count(*) FROM session_ratings GROUP BY score");
    while (st.step())
        if (const auto score = st.integer(0); score >= 1 && score <= 5) out[std::size_t(score - 1)] = st.integer(1);
    return out;
}

}  // namespace consult::store
