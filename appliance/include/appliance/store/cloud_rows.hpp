// What a pull from the clinic cloud writes: the rows the cloud owns, upserted or
// deleted by id, and the local rows a deletion in the cloud touches instead.
#pragma once

#include "appliance/store/database.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace consult::store {

// A value as the local schema takes it.
using CloudValue = std::variant<std::nullptr_t, std::string, std::int64_t>;

// One prepared upsert for a cloud-owned table: `columns` start with "id"; a row that
// exists already gets every column but id and created_at from the cloud.
class CloudRowWriter {
public:
    CloudRowWriter(Database& db, const std::string& table, const std::vector<std::string>& columns);
    void upsert(const std::vector<CloudValue>& values);   // in `columns` order

private:
    Statement st_;
};

// Runs `f` in a savepoint of the caller's transaction: when it throws (a StoreError, or
// a value of a type the row cannot hold) only its writes are undone, and the answer is false.
bool in_savepoint(Database& db, const std::function<void()>& f);

void delete_cloud_row(Database& db, const std::string& table, const std::string& id);

bool appointment_has_sessions(Database& db, const std::string& appointment_id);
// Marks an appointment cancelled (it keeps its sessions); nothing when it is already.
void cancel_appointment(Database& db, const std::string& appointment_id);
// A doctor still referenced by appointments is kept, no longer bookable.
void deactivate_doctor(Database& db, const std::string& doctor_id);
// The clinic's consultation the stored appointment names; empty when none (or no such appointment).
std::string appointment_consultation(Database& db, const std::string& appointment_id);
// All the appointment's sessions, whatever their state.
std::vector<std::string> sessions_of(Database& db, const std::string& appointment_id);
// The appointment's sessions that have not started: scheduled or waiting.
std::vector<std::string> unstarted_sessions_of(Database& db, const std::string& appointment_id);

}  // namespace consult::store
