#include "appliance/store/short_link_store.hpp"

#include "appliance/domain/short_code.hpp"

namespace consult::store {

std::optional<std::string> ShortLinkStore::find_code(const std::string& session_id) {
    auto st = db_.prepare("SELECT code FROM short_links WHERE session_id = ?1");
    st.bind(1, std::string_view(session_id));
    if (!st.step()) return std::nullopt;
    return st.text(0);
}

std::string ShortLinkStore::code_for(const std::string& session_id) {
    if (auto code = find_code(session_id)) return *code;
    // A code already taken (one in a trillion per session) draws again.
    for (int attempt = 0; attempt < 8; ++attempt) {
        const std::string code = domain::new_short_code();
        auto st = db_.prepare("INSERT INTO short_links(code, session_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        st.bind(1, std::string_view(code)).bind(2, std::string_view(session_id)).run();
        if (db_.changes() == 1) return code;
        if (auto made = find_code(session_id)) return *made;   // another request made it meanwhile
    }
    throw StoreError(0, "no free short code");
}

std::optional<std::string> ShortLinkStore::session_for(const std::string& code) {
    auto st = db_.prepare("SELECT session_id FROM short_links WHERE code = ?1");
    st.bind(1, std::string_view(code));
    if (!st.step()) return std::nullopt;
    return st.text(0);
}

}  // namespace consult::store
