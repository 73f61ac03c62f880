// The doctor's summary of a consultation for the patient (visit_summaries): its text,
// and the unguessable reference of the page that shows it after the patient types the
// code from their invite; wrong codes are counted so the page can close.
#pragma once

#include "appliance/store/database.hpp"

#include <optional>
#include <string>

namespace consult::store {

struct VisitSummary {
    std::string session_id, text, ref;
    int wrong_codes = 0;
    std::string updated_at;
};

class VisitSummaryStore {
public:
    explicit VisitSummaryStore(Database& db) : db_(db) {}
    // Writes the text (the reference is made the first time and kept).
    VisitSummary save(const std::string& session_id, const std::string& text);
    std::optional<VisitSummary> for_session(const std::string& session_id);
    std::optional<VisitSummary> by_ref(const std::string& ref);
    void wrong_code(const std::string& ref);

private:
    Database& db_;
};

}  // namespace consult::store
