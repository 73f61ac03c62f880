#include "appliance/store/demo_data.hpp"

#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/store/pin_store.hpp"

#include <openssl/sha.h>

#include <cstdio>
#include <ctime>
#include <string>

namespace consult::store {

namespace {

constexpr const char* kPatients[] = {
    "Alex Demo", "Sam Example", "Jordan Sample", "Riley Test",
    "Casey Placeholder", "Morgan Fictional", "Jamie Invented", "Taylor Madeup",
};

int insert(Database& db, std::string_view sql, std::initializer_list<std::string> values) {
    auto st = db.prepare(sql);
    int i = 1;
    for (const auto& v : values) st.bind(i++, std::string_view(v));
    st.run();
    return int(db.changes());
}

}  // namespace

std::string name_uuid(std::string_view label) {
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(label.data()), label.size(), h);
    h[6] = (h[6] & 0x0f) | 0x50;  // version 5 layout: name-based
    h[8] = (h[8] & 0x3f) | 0x80;
    char out[37];
    std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                  h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
    return out;
}

int seed_demo(Database& db, std::chrono::system_clock::time_point now) {
    Transaction tx(db);
    int rows = 0;
    rows += insert(db, "INSERT OR IGNORE INTO clinics(id, name, timezone) VALUES (?1, ?2, ?3)",
                   {DemoIds::clinic, "Demo Dental Clinic", "localtime"});
    const std::pair<const char*, const char*> doctors[] = {
        {DemoIds::doctor_a, "Dr. Ada Demo"}, {DemoIds::doctor_b, "Dr. Ben Sample"}};
    for (auto [id, name] : doctors) {
        rows += insert(db, "INSERT OR IGNORE INTO doctors(id, clinic_id, full_name) VALUES (?1, ?2, ?3)",
                       {id, DemoIds::clinic, name});
        for (int day = 1; day <= 5; ++day)
            rows += insert(db,
                           "INSERT OR IGNORE INTO video_consultation_timings(id, doctor_id, day_of_week, "
                           "start_time, end_time, slot_duration_minutes) VALUES (?1, ?2, ?3, '09:00', '17:00', 30)",
                           {name_uuid(std::string("demo-timing-") + id + std::to_string(day)), id,
                            std::to_string(day)});
    }
    int p = 0;
    for (const char* name : kPatients) {
        char phone[20];
        std::snprintf(phone, sizeof phone, "+1555010%04d", p++);
        rows += insert(db, "INSERT OR IGNORE INTO patients(id, clinic_id, full_name, phone) VALUES (?1, ?2, ?3, ?4)",
                       {name_uuid(std::string("demo-patient-") + name), DemoIds::clinic, name, phone});
    }
    // Appointments in local working hours (09:00-17:00) today and tomorrow.
    const bool journey_queue = db.user_version() >= 14;
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    int n = 0;
    for (int day = 0; day < 2; ++day) {
        std::tm local{};
        localtime_r(&t, &local);
        local.tm_mday += day;
        local.tm_sec = 0;
        local.tm_isdst = -1;
        for (int slot = 0; slot < 16; ++slot) {
            local.tm_hour = 9 + slot / 2;
            local.tm_min = (slot % 2) * 30;
            std::tm copy = local;
            const std::string starts = iso_utc(std::mktime(&copy));
            for (auto [doctor, doctor_name] : doctors) {
                const std::string patient = name_uuid(std::string("demo-patient-") + kPatients[n++ % std::size(kPatients)]);
                const std::string id = name_uuid("demo-appointment-" + std::string(doctor) + starts);
                rows += insert(db,
                               "INSERT OR IGNORE INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, "
                               "duration_minutes, consultation_type, status) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, 30, 'video', 'scheduled')",
                               {id, DemoIds::clinic, doctor, patient, starts});
                // The demo's appointments were booked before this box: no confirmations for them
                // (a schema before migration 14, as the migration tests make, has no queue).
                if (journey_queue) insert(db, "DELETE FROM appointment_changes WHERE appointment_id = ?1", {id});
            }
        }
    }
    // Kiosk PINs (README: demo PINs), kept if already set.
    const std::pair<const char*, const char*> pins[] = {
        {DemoIds::doctor_a, "1234"}, {DemoIds::doctor_b, "5678"}, {PinStore::kAdmin, "0000"}};
    for (auto [subject, pin] : pins)
        if (!PinStore(db).hash_of(subject)) {
            PinStore(db).set(subject, kiosk::hash_pin(pin));
            ++rows;
        }
    tx.commit();
    return rows;
}

}  // namespace consult::store
