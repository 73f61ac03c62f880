// Kiosk PIN hashes: one per doctor, one for the admin ("Settings").
#pragma once

#include "appliance/store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::store {

struct KioskDoctor {
    std::string id, full_name;
    bool has_pin = false;
};

class PinStore {
public:
    static constexpr const char* kAdmin = "admin";

    explicit PinStore(Database& db) : db_(db) {}

    // `subject` is a doctor's id or kAdmin; `hash` comes from kiosk::hash_pin.
    void set(const std::string& subject, const std::string& hash);
    std::optional<std::string> hash_of(const std::string& subject);
    // Active doctors, by name, and whether each can sign in (has a PIN).
    std::vector<KioskDoctor> doctors();
    bool doctor_exists(const std::string& id);

private:
    Database& db_;
};

}  // namespace consult::store
