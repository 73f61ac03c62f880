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
enum class Kind { Text, OptText, OptUuid, Time, Int, Bool, Clock, Phone, Email, NotifyVia };

struct Column {
    const char* local;
    Kind kind;
    const char* cloud = nullptr;                     // its name in the cloud, when not the local one
    std::optional<store::CloudValue> if_null = {};   // the cloud's default, for its nullable columns
    const char* added_by = nullptr;                  // the cloud migration that adds it, when not 0001
    const char* cloud_name() const { return cloud ? cloud : local; }
};

// A cloud table (the clinic system's, as tests/cloud/seed_schema.sql gives them) and the
// local table it lands in.
struct LocalTable {
    const char* cloud;
    const char* local;
    const char* clinic_column;     // the cloud column that names the clinic
    std::vector<Column> columns;   // id first
    std::vector<std::pair<std::string, std::string>> filters = {};   // more of the read's conditions
};

const std::vector<LocalTable>& local_tables() {
    static const std::vector<LocalTable> t = {
        {"clinics", "clinics", "id",
         {{"id", Kind::Text}, {"name", Kind::Text}, {"timezone", Kind::Text}, {"phone", Kind::OptText},
          {"email", Kind::OptText}, {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
        // The clinic system keeps doctors and staff in profiles; the appliance keeps its doctors.
        {"profiles", "doctors", "clinic_id",
         {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"full_name", Kind::Text}, {"email", Kind::Email},
          {"phone", Kind::Phone}, {"is_active", Kind::Bool, nullptr, std::int64_t(1)}, {"created_at", Kind::Time},
          {"updated_at", Kind::Time}},
         {{"role", "eq." + std::string(kDoctorRole)}}},
        {"patients", "patients", "clinic_id",
         {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"full_name", Kind::Text}, {"phone", Kind::Phone},
          {"email", Kind::Email}, {"notify_via", Kind::NotifyVia, nullptr, {}, "0004_patient_notifications.sql"},
          {"created_at", Kind::Time},
          {"updated_at", Kind::Time}}},
        {"appointments", "appointments", "clinic_id",
         {{"id", Kind::Text}, {"clinic_id", Kind::Text}, {"doctor_id", Kind::Text}, {"patient_id", Kind::Text},
          {"starts_at", Kind::Time}, {"duration_minutes", Kind::Int}, {"consultation_type", Kind::Text},
          {"status", Kind::Text}, {"reason", Kind::OptText},
          // The clinic's consultation the appointment belongs to; its session goes up with it.
          {"consultation_id", Kind::OptUuid, nullptr, {}, "0009_appointment_consultation.sql"},
          {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
        {"video_consultation_timings", "video_consultation_timings", "clinic_id",
         {{"id", Kind::Text}, {"doctor_id", Kind::Text}, {"day_of_week", Kind::Int}, {"start_time", Kind::Clock},
          {"end_time", Kind::Clock}, {"slot_duration_minutes", Kind::Int, "duration_minutes", std::int64_t(30)},
          {"is_active", Kind::Bool, nullptr, std::int64_t(1)}, {"created_at", Kind::Time}, {"updated_at", Kind::Time}}},
    };
    return t;
}

const LocalTable* find_local(const std::string& cloud_table) {
    for (const auto& t : local_tables())
        if (cloud_table == t.cloud) return &t;
    return nullptr;
}

// One cloud value as the local schema takes it; nothing when it cannot be stored (the row is skipped).
std::optional<store::CloudValue> value_of(const Column& c, const nlohmann::json& row) {
    const nlohmann::json v = row.contains(c.cloud_name()) ? row[c.cloud_name()] : nlohmann::json(nullptr);
    if (v.is_null() && c.if_null) return c.if_null;
    switch (c.kind) {
    case Kind::Text:
        if (!v.is_string()) return std::nullopt;
        return v.get<std::string>();
    case Kind::OptText:
        if (v.is_string()) return v.get<std::string>();
        return nullptr;
    case Kind::OptUuid:   // a reference the appliance only passes on: a value that is no uuid is left out
        if (v.is_string() && store::is_uuid(v.get<std::string>())) return v.get<std::string>();
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
    for (const auto& c : t.columns) out.emplace_back(c.local);
    return out;
}

// A text field of a cloud row; empty when absent or of another type.
std::string text_of(const nlohmann::json& row, const char* name) {
    auto it = row.find(name);
    return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A doctor the clinic's devices no longer see: gone, or inactive while appointments refer to them.
void forget_doctor(store::Database& db, const std::string& id) {
    if (!store::in_savepoint(db, [&] { store::delete_cloud_row(db, "doctors", id); })) store::deactivate_doctor(db, id);
}

void apply_tombstone(store::Database& db, const nlohmann::json& row, ApplyResult& out) {
    const std::string table = text_of(row, "table_name"), id = text_of(row, "row_id");
    const LocalTable* t = find_local(table);
    if (id.empty() || !t || table == "clinics") { ++out.skipped; return; }
    if (table == "appointments") {
        // Sessions keep their appointment: it becomes cancelled.
        if (store::appointment_has_sessions(db, id)) store::cancel_appointment(db, id);
        else store::delete_cloud_row(db, table, id);
        out.cancelled_appointments.push_back(id);
        ++out.deleted;
        return;
    }
    if (std::string(t->local) == "doctors") forget_doctor(db, id);
    else store::in_savepoint(db, [&] { store::delete_cloud_row(db, t->local, id); });
    ++out.deleted;
}

// A profile that is not a doctor's (the read asks for doctors only; a clinic's own policy may show more).
bool not_a_doctor(const LocalTable& t, const nlohmann::json& row) {
    return std::string(t.cloud) == "profiles" && text_of(row, "role") != kDoctorRole;
}

}  // namespace

const std::vector<PulledTable>& pulled_tables() {
    static const std::vector<PulledTable> t = [] {
        std::vector<PulledTable> out;
        for (const auto& l : local_tables()) {
            PulledTable p{l.cloud, "", l.clinic_column, l.filters};
            for (const auto& c : l.columns) {
                p.select += (p.select.empty() ? "" : ",") + std::string(c.cloud_name());
                if (c.added_by) p.late_columns.emplace_back(c.cloud_name(), c.added_by);
            }
            if (p.table == "profiles") p.select += ",role";
            out.push_back(std::move(p));
        }
        out.push_back({kTombstones, "id,table_name,row_id,updated_at", "clinic_id", {}});
        return out;
    }();
    return t;
}

std::string PulledTable::select_without(const std::set<std::string>& missing) const {
    if (missing.empty()) return select;
    std::string out;
    size_t from = 0;
    while (from <= select.size()) {
        size_t comma = select.find(',', from);
        if (comma == std::string::npos) comma = select.size();
        std::string column = select.substr(from, comma - from);
        if (!missing.count(column)) out += (out.empty() ? "" : ",") + column;
        from = comma + 1;
    }
    return out;
}

const std::pair<std::string, std::string>* PulledTable::missing_late_column(const std::string& code,
                                                                           const std::string& message) const {
    if (code != "42703") return nullptr;
    for (const auto& late : late_columns) {
        // PostgreSQL names it "<table>.<column>" or quotes it.
        for (const std::string& name : {table + "." + late.first, "\"" + late.first + "\""})
            if (message.find(name) != std::string::npos) return &late;
    }
    return nullptr;
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
    store::CloudRowWriter writer(db, t->local, column_names(*t));
    const auto unpushed = store::OutboxStore(db).unpushed_rows(table);   // a local change still in the outbox wins
    const bool appointments = table == "appointments";
    for (const auto& row : rows) {
        if (!row.is_object() || !row.contains("id") || !row["id"].is_string()) { ++out.skipped; continue; }
        const std::string id = row["id"].get<std::string>();
        if (unpushed.count(id)) { ++out.kept_local; continue; }
        if (not_a_doctor(*t, row)) {
            if (store::in_savepoint(db, [&] { forget_doctor(db, id); })) ++out.deleted;
            continue;
        }
        const std::string consultation_before = appointments ? store::appointment_consultation(db, id) : "";
        bool ok = store::in_savepoint(db, [&] { writer.upsert(values_of(*t, row)); });
        if (!ok) { ++out.skipped; continue; }
        ++out.applied;
        // The clinic linked the appointment to a consultation (or another one): its sessions go up again with it.
        if (appointments && store::appointment_consultation(db, id) != consultation_before) {
            store::SessionStore sessions(db);
            for (const auto& session : store::sessions_of(db, id)) sessions.queue_for_cloud(session);
        }
        if (appointments && text_of(row, "status") == "cancelled") out.cancelled_appointments.push_back(id);
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
    if (rest.empty()) rest = "Z";   // the seed's `timestamp` columns: UTC (see consult_touch_updated_at_utc)
    if (rest.size() == 3 && (rest[0] == '+' || rest[0] == '-')) rest += ":00";                 // "+02"
    if (rest.size() == 5 && (rest[0] == '+' || rest[0] == '-')) rest = rest.substr(0, 3) + ":" + rest.substr(3);   // "+0200"
    auto t = domain::parse_iso(s.substr(0, 19) + rest);
    if (!t) return {};
    return domain::iso_utc(*t, millis);
}

}  // namespace consult::cloud
