// Audit rows written in groups: every row that arrives during one turn of the main
// loop goes into the store in one transaction, one fsync for all of them. A request
// whose answer depends on its audit row (a read of patient data) is answered only
// once that row is committed, so grouping loses nothing: a crash before the commit
// means the data was never shown.
#pragma once

#include "appliance/store/database.hpp"
#include "appliance/store/records.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace consult::store {

class AuditBatch {
public:
    using Later = std::function<void(std::chrono::milliseconds, std::function<void()>)>;
    using Done = std::function<void(bool committed)>;

    // A batch that is still busy after this long is given up (its waiters hear false).
    static constexpr std::chrono::milliseconds kGiveUpAfter{3000};

    AuditBatch(Database& db, Later later);
    ~AuditBatch();
    AuditBatch(const AuditBatch&) = delete;
    AuditBatch& operator=(const AuditBatch&) = delete;

    // Queues a row for the next commit; `done` (may be empty) hears how it went.
    void add(AuditEntry entry, Done done = {});
    // Commits what is queued now (also at the end of each loop turn by itself).
    void flush();

    std::uint64_t commits() const { return commits_; }
    std::uint64_t rows() const { return rows_; }

private:
    struct Pending {
        AuditEntry entry;
        Done done;
    };
    void schedule(std::chrono::milliseconds wait);

    Database& db_;
    Later later_;
    std::vector<Pending> pending_;
    bool scheduled_ = false;
    std::chrono::steady_clock::time_point first_try_{};
    std::chrono::milliseconds backoff_{10};
    std::uint64_t commits_ = 0, rows_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::store
