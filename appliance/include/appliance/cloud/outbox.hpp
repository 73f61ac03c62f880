// The SQLite outbox seen from the cloud side: what is waiting, in what batches it
// goes up, and what happened to it (delivered rows leave, refused rows are parked).
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace consult::cloud {

struct OutboxEntry {
    std::int64_t seq = 0;
    std::string table, row_id;
    nlohmann::json payload;
    int attempts = 0;
};

// One request's worth: rows of one table with the same keys, one per row id (the
// newest wins), and every outbox entry it settles, superseded ones included.
struct PushBatch {
    std::string table;
    bool is_delete = false;                 // a {"id", "deleted": true} entry: DELETE, not an upsert
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::int64_t> seqs;
};

// Batches in the order they must go: parents before children (appointments before
// sessions before participants), each row's entries in seq order, at most `max_rows` rows each.
std::vector<PushBatch> plan_batches(const std::vector<OutboxEntry>& entries, size_t max_rows);

class Outbox {
public:
    explicit Outbox(store::Database& db) : db_(db) {}

    std::vector<OutboxEntry> pending(int limit);     // not parked, oldest first
    void delivered(const std::vector<std::int64_t>& seqs);   // the cloud has them: removed
    void failed(const std::vector<std::int64_t>& seqs, const std::string& error, const std::string& next_attempt_at);
    void park(std::int64_t seq, const std::string& error);   // refused as it is; kept for a person to look at
    std::int64_t depth();                            // waiting, parked rows excluded
    std::int64_t parked();
    // Has this row a change that has not gone up yet? (A pull then leaves the local copy alone.)
    bool has_pending(const std::string& table, const std::string& row_id);

private:
    store::Database& db_;
};

}  // namespace consult::cloud
