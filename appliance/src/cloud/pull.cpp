#include "appliance/cloud/pull.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/store/cloud_rows.hpp"
#include "appliance/store/outbox_store.hpp"
#include "appliance/store/session_store.hpp"

#include <optional>

namespace consult::cloud {

namespace {

// How a cloud value becomes a local one.
enum class Kind { Text, OptText, Time, Int, Bool, Clock, Phone, Email, NotifyVia };

struct Column {
    const char* name;
    Kind kind;
};

struct LocalTable {
    const char* table;
    std::vector<Column> columns;   // id first
};

const std::vector<LocalTable>& local_tables() {
    static const std::vector<LocalTable> t = {
        {"clinics", {{"id", Kind::Text}, {"name", Kind::Text}, {"timezone", Kind::Text}, {"phone", Kind::OptText},
                     {"email", Kind::OptText}, {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
        {"doctors", {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"full_name", Kind::Text}, {"email", Kind::Email},
                     {"phone", Kind::Phone}, {"is_active", Kind::Bool}, {"created_at", Kind::Time},
                     {"updated_at", Kind::Time}}},
        {"patients", {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"full_name", Kind::Text}, {"phone", Kind::Phone},
                      {"email", Kind::Email}, {"notify_via", Kind::NotifyVia}, {"created_at", Kind::Time},
                      {"updated_at", Kind::Time}}},
        {"appointments", {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"doctor_id", Kind::Text},
                          {"patient_id", Kind::Text}, {"starts_at", Kind::Time}, {"duration_minutes", Kind::Int},
                          {"consultation_type", Kind::Text}, {"status", Kind::Text}, {"reason", Kind::OptText},
                          {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
        {"video_consultation_timings", {{"id", Kind::Text}, {"doctor_id", Kind::Text}, {"day_of_week", Kind::Int},
                                        {"start_time", Kind::Clock}, {"end_time", Kind::Clock},
                                        {"slot_duration_minutes", Kind::Int}, {"is_active", Kind::Bool},
                                        {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
    };
    return t;
}

const LocalTable* find_local(const std::string& table) {
    for (const auto& t : local_tables())
        if (table == t.table) return &t;
    return nullptr;
}

// One cloud value as the local schema takes it; nothing when it cannot be stored (the row is skipped).
std::optional<store::CloudValue> value_of(const Column& c, const nlohmann::json& row) {
    const nlohmann::json v = row.contains(c.name) ? row[c.name] : nlohmann::json(nullptr);
    switch (c.kind) {
    case Kind::Text:
        if (!v.is_string()) return std::nullopt;
        return v.get<std::string>();
    case Kind::OptText:
        if (v.is_string()) return v.get<std::string>();
        return nullptr;
    case Kind::Time: {
        if (!v.is_string()) return std::nullopt;
        std::string t = to_local_time(v.get<std::string>());
        if (t.empty()) return std::nullopt;
        return t;
    }
    case Kind::Int:
        if (!v.is_number_integer()) return std::nullopt;
        return v.get<std::int64_t>();
    case Kind::Bool:
        if (v.is_boolean()) return std::int64_t(v.get<bool>() ? 1 : 0);
        if (v.is_number_integer()) return std::int64_t(v.get<int>() != 0 ? 1 : 0);
        return std::nullopt;
    case Kind::Clock: {   // "09:00:00" (PostgreSQL time) → "09:00"
        if (!v.is_string()) return std::nullopt;
        std::string s = v.get<std::string>().substr(0, 5);
        if (!domain::parse_clock(s)) return std::nullopt;
        return s;
    }
    case Kind::Phone: {   // the local schema keeps only E.164; anything else is left out, not guessed
        std::string s = v.is_string() ? v.get<std::string>() : "";
        bool e164 = s.size() >= 3 && s[0] == '+' && s[1] >= '1' && s[1] <= '9';
        if (e164) return s;
        return nullptr;
    }
    case Kind::NotifyVia: {   // anything but the four choices is the clinic's default, not a lost patient row
        std::string s = v.is_string() ? v.get<std::string>() : "";
        if (s == "sms" || s == "email" || s == "both" || s == "none") return s;
        return nullptr;
    }
    case Kind::Email: {
        std::string s = v.is_string() ? v.get<std::string>() : "";
        auto at = s.find('@');
        if (at != std::string::npos && at > 0 && at + 1 < s.size()) return s;
        return nullptr;
    }
    }
    return std::nullopt;
}

// The row's values in column order; throws when one cannot be stored.
std::vector<store::CloudValue> values_of(const LocalTable& t, const nlohmann::json& row) {
    std::vector<store::CloudValue> out;
    for (const auto& c : t.columns) {
        auto v = value_of(c, row);
        if (!v) throw store::StoreError(0, "value");
        out.push_back(std::move(*v));
    }
    return out;
}

std::vector<std::string> column_names(const LocalTable& t) {
    std::vector<std::string> out;
    for (const auto& c : t.columns) out.emplace_back(c.name);
    return out;
}

// A text field of a cloud row; empty when absent or of another type.
std::string text_of(const nlohmann::json& row, const char* name) {
    auto it = row.find(name);
    return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void apply_tombstone(store::Database& db, const nlohmann::json& row, ApplyResult& out) {
    const std::string table = text_of(row, "table_name"), id = text_of(row, "row_id");
    if (id.empty() || !find_local(table) || table == "clinics") { ++out.skipped; return; }
    if (table == "appointments") {
        // Sessions keep their appointment: it becomes cancelled.
        if (store::appointment_has_sessions(db, id)) store::cancel_appointment(db, id);
        else store::delete_cloud_row(db, table, id);
        out.cancelled_appointments.push_back(id);
        ++out.deleted;
        return;
    }
    bool gone = store::in_savepoint(db, [&] { store::delete_cloud_row(db, table, id); });
    if (!gone && table == "doctors") store::deactivate_doctor(db, id);   // still referenced by appointments
    ++out.deleted;
}

}  // namespace

const std::vector<PulledTable>& pulled_tables() {
    static const std::vector<PulledTable> t = {
        {"clinics", "id,name,timezone,phone,email,created_at,updated_at", "id"},
        {"doctors", "id,clinic_id,full_name,email,phone,is_active,created_at,updated_at", "clinic_id"},
        {"patients", "id,clinic_id,full_name,phone,email,notify_via,created_at,updated_at", "clinic_id"},
        {"appointments",
         "id,clinic_id,doctor_id,patient_id,starts_at,duration_minutes,consultation_type,status,reason,created_at,updated_at",
         "clinic_id"},
        {"video_consultation_timings",
         "id,doctor_id,day_of_week,start_time,end_time,slot_duration_minutes,is_active,created_at,updated_at", ""},
        {kTombstones, "id,table_name,row_id,updated_at", "clinic_id"},
    };
    return t;
}

ApplyResult apply_page(store::Database& db, const std::string& table, const nlohmann::json& rows) {
    ApplyResult out;
    if (!rows.is_array()) return out;
    store::Transaction tx(db);
    if (table == kTombstones) {
        for (const auto& row : rows) {
            if (!row.is_object()) { ++out.skipped; continue; }
            // A row the local store cannot take is left aside; the pull goes on past it.
            if (!store::in_savepoint(db, [&] { apply_tombstone(db, row, out); })) ++out.skipped;
        }
        tx.commit();
        return out;
    }
    const LocalTable* t = find_local(table);
    if (!t) return out;
    store::CloudRowWriter writer(db, t->table, column_names(*t));
    const auto unpushed = store::OutboxStore(db).unpushed_rows(table);   // a local change still in the outbox wins
    for (const auto& row : rows) {
        if (!row.is_object() || !row.contains("id") || !row["id"].is_string()) { ++out.skipped; continue; }
        const std::string id = row["id"].get<std::string>();
        if (unpushed.count(id)) { ++out.kept_local; continue; }
        bool ok = store::in_savepoint(db, [&] { writer.upsert(values_of(*t, row)); });
        if (!ok) { ++out.skipped; continue; }
        ++out.applied;
        if (table == "appointments" && text_of(row, "status") == "cancelled") out.cancelled_appointments.push_back(id);
    }
    tx.commit();
    return out;
}

int cancel_sessions_of(store::Database& db, const std::vector<std::string>& appointment_ids) {
    store::SessionStore sessions(db);
    int n = 0;
    for (const auto& appointment : appointment_ids) {
        for (const auto& id : store::unstarted_sessions_of(db, appointment)) {
            try {
                sessions.transition(id, domain::SessionStatus::Cancelled, "cloud",
                                    std::string("appointment cancelled in the clinic system"));
                ++n;
            } catch (const domain::DomainError&) {
                // Moved on meanwhile (admitted, ended): nothing to cancel.
            }
        }
    }
    return n;
}

std::string to_local_time(const std::string& s) {
    if (s.size() < 19 || s[10] != 'T') return {};
    std::string rest = s.substr(19);
    int millis = 0;
    if (!rest.empty() && rest[0] == '.') {
        size_t i = 1;
        std::string digits;
        while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') digits += rest[i++];
        if (digits.empty()) return {};
        digits = (digits + "000").substr(0, 3);
        millis = std::stoi(digits);
        rest = rest.substr(i);
    }
    if (rest.size() == 3 && (rest[0] == '+' || rest[0] == '-')) rest += ":00";                 // "+02"
    if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-')) rest = rest.substr(0, 3) + ":" + rest.substr(3);   // "+0200"
    auto t = domain::parse_iso(s.substr(0, 19) + rest);
    if (!t) return {};
    return domain::iso_utc(*t, millis);
}

}  // namespace consult::cloud
