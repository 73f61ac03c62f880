// What the appliance reads from the cloud and how a page of rows lands in SQLite.
// The cloud owns clinics, doctors (the clinic system's profiles whose role is 'doctor'),
// patients, appointments and timings, in the clinic system's own tables and columns
// (tests/cloud/seed_schema.sql); a row changed locally and not yet pushed is left alone
// until its push has gone up.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace consult::cloud {

// The cloud table that records deletions (see cloud/migrations/0001_consult_appliance.sql).
inline constexpr const char* kTombstones = "consult_tombstones";

// The role of a doctor's row in the clinic system's profiles.
inline constexpr const char* kDoctorRole = "doctor";

struct PulledTable {
    std::string table;           // the cloud's table
    std::string select;          // the columns the appliance reads, nothing more
    const char* clinic_column;   // filter column for this clinic
    std::vector<std::pair<std::string, std::string>> filters;   // more conditions (profiles: doctors only)
    // Columns a later cloud migration adds (name → its file): a cloud that lacks one is
    // read without it, so a box updated before the clinic's cloud still gets its rows.
    std::vector<std::pair<std::string, std::string>> late_columns = {};

    // The select list without the late columns this cloud lacks.
    std::string select_without(const std::set<std::string>& missing) const;
    // The late column (name, migration) a refused read says the cloud lacks (PostgreSQL's
    // 42703, "column <table>.<name> does not exist"), if it is one of ours.
    const std::pair<std::string, std::string>* missing_late_column(const std::string& code,
                                                                   const std::string& message) const;
};

// In pull order: parents first, deletions last.
const std::vector<PulledTable>& pulled_tables();

struct ApplyResult {
    int applied = 0;                          // inserted or updated
    int skipped = 0;                          // rows that do not fit the local schema (counted, not logged)
    int kept_local = 0;                       // rows with an unpushed local change
    int deleted = 0;
    std::vector<std::string> cancelled_appointments;   // cancelled or deleted in the cloud
};

// Applies one page of the cloud's `table` in one transaction. Sessions of cancelled appointments are not
// touched here (see cancel_sessions_of), so the page commits on its own.
ApplyResult apply_page(store::Database& db, const std::string& table, const nlohmann::json& rows);

// Cancels the scheduled or waiting session of each appointment, with a reason; returns how many.
// A call already in progress is left to finish.
int cancel_sessions_of(store::Database& db, const std::vector<std::string>& appointment_ids);

// Cloud timestamps ("2024-05-01T09:00:00.123456+02:00") as the appliance stores them
// ("2024-05-01T07:00:00.123Z"); one without a zone (the seed's `timestamp` columns) is UTC;
// empty when unreadable.
std::string to_local_time(const std::string& cloud_timestamp);

}  // namespace consult::cloud
