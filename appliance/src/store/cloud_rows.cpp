#include "appliance/store/cloud_rows.hpp"

#include "appliance/domain/time.hpp"

#include <type_traits>

namespace consult::store {

namespace {

std::string upsert_sql(const std::string& table, const std::vector<std::string>& columns) {
    std::string cols, params, sets;
    for (size_t i = 0; i < columns.size(); ++i) {
        const std::string& name = columns[i];
        cols += (i ? ", " : "") + name;
        params += (i ? ", ?" : "?") + std::to_string(i + 1);
        if (name != "id" && name != "created_at") sets += (sets.empty() ? "" : ", ") + name + " = excluded." + name;
    }
    return "INSERT INTO " + table + "(" + cols + ") VALUES (" + params + ") ON CONFLICT(id) DO UPDATE SET " + sets;
}

std::vector<std::string> ids(Statement& st) {
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

}  // namespace

CloudRowWriter::CloudRowWriter(Database& db, const std::string& table, const std::vector<std::string>& columns)
    : st_(db.prepare(upsert_sql(table, columns))) {}

void CloudRowWriter::upsert(const std::vector<CloudValue>& values) {
    st_.reset();
    for (size_t i = 0; i < values.size(); ++i)
        std::visit([&](const auto& v) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) st_.bind(int(i + 1), std::string_view(v));
            else st_.bind(int(i + 1), v);
        }, values[i]);
    st_.run();
}

bool in_savepoint(Database& db, const std::function<void()>& f) {
    db.exec("SAVEPOINT pulled_row");
    try {
        f();
        db.exec("RELEASE pulled_row");
        return true;
    } catch (const std::exception&) {
        db.exec("ROLLBACK TO pulled_row");
        db.exec("RELEASE pulled_row");
        return false;
    }
}

void delete_cloud_row(Database& db, const std::string& table, const std::string& id) {
    db.prepare("DELETE FROM " + table + " WHERE id = ?1").bind(1, std::string_view(id)).run();
}

bool appointment_has_sessions(Database& db, const std::string& appointment_id) {
    auto st = db.prepare("SELECT 1 FROM video_consultation_sessions WHERE appointment_id = ?1 LIMIT 1");
    st.bind(1, std::string_view(appointment_id));
    return st.step();
}

void cancel_appointment(Database& db, const std::string& appointment_id) {
    db.prepare("UPDATE appointments SET status = 'cancelled', updated_at = ?1 WHERE id = ?2 AND status <> 'cancelled'")
        .bind(1, std::string_view(domain::now_iso())).bind(2, std::string_view(appointment_id)).run();
}

void deactivate_doctor(Database& db, const std::string& doctor_id) {
    db.prepare("UPDATE doctors SET is_active = 0 WHERE id = ?1").bind(1, std::string_view(doctor_id)).run();
}

std::string appointment_consultation(Database& db, const std::string& appointment_id) {
    auto st = db.prepare("SELECT consultation_id FROM appointments WHERE id = ?1");
    st.bind(1, std::string_view(appointment_id));
    return st.step() ? st.optional_text(0).value_or("") : "";
}

std::vector<std::string> sessions_of(Database& db, const std::string& appointment_id) {
    auto st = db.prepare("SELECT id FROM video_consultation_sessions WHERE appointment_id = ?1");
    st.bind(1, std::string_view(appointment_id));
    return ids(st);
}

std::vector<std::string> unstarted_sessions_of(Database& db, const std::string& appointment_id) {
    auto st = db.prepare("SELECT id FROM video_consultation_sessions WHERE appointment_id = ?1 "
                         "AND status IN ('scheduled', 'waiting')");
    st.bind(1, std::string_view(appointment_id));
    return ids(st);
}

}  // namespace consult::store
