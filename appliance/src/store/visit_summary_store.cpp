#include "appliance/store/visit_summary_store.hpp"

#include "appliance/domain/room_name.hpp"
#include "appliance/domain/time.hpp"

namespace consult::store {

namespace {

constexpr const char* kSelect = "SELECT session_id, text, ref, wrong_codes, updated_at FROM visit_summaries ";

std::optional<VisitSummary> one(Database& db, const std::string& where, const std::string& value) {
    auto st = db.prepare(kSelect + where);
    st.bind(1, std::string_view(value));
    if (!st.step()) return std::nullopt;
    return VisitSummary{st.text(0), st.text(1), st.text(2), int(st.integer(3)), st.text(4)};
}

}  // namespace

VisitSummary VisitSummaryStore::save(const std::string& session_id, const std::string& text) {
    const std::string now = domain::now_iso();
    // 192 random bits, URL-safe: the page's address cannot be guessed.
    db_.prepare("INSERT INTO visit_summaries(session_id, text, ref, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) "
                "ON CONFLICT(session_id) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at")
        .bind(1, std::string_view(session_id)).bind(2, std::string_view(text))
        .bind(3, std::string_view(domain::new_room_name())).bind(4, std::string_view(now))
        .run();
    return *for_session(session_id);
}

std::optional<VisitSummary> VisitSummaryStore::for_session(const std::string& session_id) {
    return one(db_, "WHERE session_id = ?1", session_id);
}

std::optional<VisitSummary> VisitSummaryStore::by_ref(const std::string& ref) { return one(db_, "WHERE ref = ?1", ref); }

void VisitSummaryStore::wrong_code(const std::string& ref) {
    db_.prepare("UPDATE visit_summaries SET wrong_codes = wrong_codes + 1 WHERE ref = ?1").bind(1, std::string_view(ref)).run();
}

}  // namespace consult::store
