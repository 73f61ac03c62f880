#include "appliance/kiosk/ctl_set_pin.hpp"

#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/pin_store.hpp"
#include "appliance/store/records.hpp"

namespace consult::kiosk {

namespace {

// The PIN on the first line of `in`, or nothing (said on stderr).
std::optional<std::string> read_pin(std::FILE* in) {
    char line[128] = {};
    if (!std::fgets(line, sizeof line, in)) {
        std::fprintf(stderr, "consultctl: no PIN on stdin\n");
        return std::nullopt;
    }
    std::string pin(line);
    while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
    if (!valid_pin(pin)) {
        std::fprintf(stderr, "consultctl: a PIN is 4 to 8 digits\n");
        return std::nullopt;
    }
    return pin;
}

}  // namespace

int hash_pin_command(std::FILE* in) {
    auto pin = read_pin(in);
    if (!pin) return 64;
    std::printf("%s\n", hash_pin(*pin).c_str());
    return 0;
}

int set_pin(const std::filesystem::path& state_dir, const std::optional<std::string>& doctor, std::FILE* in) {
    auto read = read_pin(in);
    if (!read) return 64;
    const std::string pin = *read;
    const auto path = state_dir / "consult.db";
    if (!std::filesystem::exists(path)) {
        std::fprintf(stderr, "consultctl: no database at %s (start consultd once first)\n", path.c_str());
        return 2;
    }
    try {
        auto db = store::Database::open(path, store::Database::Mode::ReadWrite);
        store::migrate(db);
        store::PinStore pins(db);
        if (doctor && !pins.doctor_exists(*doctor)) {
            std::fprintf(stderr, "consultctl: no active doctor %s\n", doctor->c_str());
            return 2;
        }
        const std::string subject = doctor.value_or(store::PinStore::kAdmin);
        pins.set(subject, hash_pin(pin));
        store::write_audit(db, {"consultctl", "system", "kiosk.pin_set", std::nullopt, "",
                                {{"subject", doctor ? "doctor" : "admin"}, {"doctor_id", doctor ? *doctor : ""}}});
        std::printf("PIN set for %s\n", doctor ? ("doctor " + *doctor).c_str() : "the admin (Settings)");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consultctl: %s\n", e.what());
        return 2;
    }
}

}  // namespace consult::kiosk
