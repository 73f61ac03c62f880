// The outbox table seen from the cloud side: what is waiting to go up and what became
// of it (delivered rows leave, refused rows are parked). Rows are queued with
// enqueue_outbox (records.hpp), in the transaction of the change they carry.
#pragma once

#include "appliance/store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace consult::store {

struct OutboxEntry {
    std::int64_t seq = 0;
    std::string table, row_id;
    nlohmann::json payload;
    int attempts = 0;
};

class OutboxStore {
public:
    explicit OutboxStore(Database& db) : db_(db) {}

    std::vector<OutboxEntry> pending(int limit);     // not parked, oldest first
    // A row of which only the newest state matters (the box's status report): its entries
    // still waiting, parked ones too, give way to this one, in one transaction.
    void replace(const std::string& table, const std::string& row_id, const nlohmann::json& payload);
    void delivered(const std::vector<std::int64_t>& seqs);   // the cloud has them: removed
    void failed(const std::vector<std::int64_t>& seqs, const std::string& error, const std::string& next_attempt_at);
    void park(std::int64_t seq, const std::string& error);   // refused as it is; kept for a person to look at
    std::int64_t depth();                            // waiting, parked rows excluded
    std::int64_t parked();
    // Has this row a change that has not gone up yet? (A pull then leaves the local copy alone.)
    bool has_pending(const std::string& table, const std::string& row_id);
    // The same for a whole table: the ids of its rows with a change still waiting.
    std::set<std::string> unpushed_rows(const std::string& table);

private:
    Database& db_;
};

}  // namespace consult::store
