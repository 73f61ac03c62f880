#include "appliance/store/pin_store.hpp"

#include "appliance/domain/time.hpp"

namespace consult::store {

void PinStore::set(const std::string& subject, const std::string& hash) {
    db_.prepare("INSERT INTO kiosk_pins(subject, hash, updated_at) VALUES (?1, ?2, ?3) "
                "ON CONFLICT(subject) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at")
        .bind(1, std::string_view(subject)).bind(2, std::string_view(hash)).bind(3, std::string_view(domain::now_iso()))
        .run();
}

std::optional<std::string> PinStore::hash_of(const std::string& subject) {
    auto st = db_.prepare("SELECT hash FROM kiosk_pins WHERE subject = ?1");
    st.bind(1, std::string_view(subject));
    if (!st.step()) return std::nullopt;
    return st.text(0);
}

std::vector<KioskDoctor> PinStore::doctors() {
    auto st = db_.prepare("SELECT d.id, d.full_name, p.subject IS NOT NULL FROM doctors d "
                          "LEFT JOIN kiosk_pins p ON p.subject = d.id WHERE d.is_active = 1 ORDER BY d.full_name, d.id");
    std::vector<KioskDoctor> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.integer(2) != 0});
    return out;
}

bool PinStore::doctor_exists(const std::string& id) {
    auto st = db_.prepare("SELECT 1 FROM doctors WHERE id = ?1 AND is_active = 1");
    st.bind(1, std::string_view(id));
    return st.step();
}

}  // namespace consult::store
