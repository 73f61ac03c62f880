// In what batches the outbox goes up to the cloud (the rows themselves: store/outbox_store.hpp).
#pragma once

#include "appliance/store/outbox_store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace consult::cloud {

using store::OutboxEntry;

// One request's worth: rows of one table with the same keys, one per row id (the
// newest wins), and every outbox entry it settles, superseded ones included.
struct PushBatch {
    std::string table;
    bool is_delete = false;                 // a {"id", "deleted": true} entry: DELETE, not an upsert
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::int64_t> seqs;
};

// Batches in the order they must go: parents before children (appointments before
// sessions before participants; sessions before a recording's consents, the recording
// and its access rows), each row's entries in seq order, at most `max_rows` rows each.
std::vector<PushBatch> plan_batches(const std::vector<OutboxEntry>& entries, size_t max_rows);

}  // namespace consult::cloud
