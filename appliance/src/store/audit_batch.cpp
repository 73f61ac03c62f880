#include "appliance/store/audit_batch.hpp"

#include "appliance/log.hpp"
#include "appliance/store/write_queue.hpp"

namespace consult::store {

AuditBatch::AuditBatch(Database& db, Later later) : db_(db), later_(std::move(later)) {}

AuditBatch::~AuditBatch() {
    *alive_ = false;
    try {
        flush();
    } catch (...) {
    }
    for (auto& p : pending_)
        if (p.done) p.done(false);
}

void AuditBatch::add(AuditEntry entry, Done done) {
    pending_.push_back({std::move(entry), std::move(done)});
    if (!scheduled_) schedule(std::chrono::milliseconds(0));
}

void AuditBatch::schedule(std::chrono::milliseconds wait) {
    scheduled_ = true;
    later_(wait, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        scheduled_ = false;
        flush();
    });
}

void AuditBatch::flush() {
    if (pending_.empty()) return;
    std::vector<Pending> batch;
    try {
        Transaction tx(db_);
        for (const auto& p : pending_) write_audit(db_, p.entry);
        tx.commit();
        batch.swap(pending_);
        ++commits_;
        rows_ += batch.size();
        first_try_ = {};
        backoff_ = std::chrono::milliseconds(10);
    } catch (const StoreError& e) {
        const auto now = std::chrono::steady_clock::now();
        if (first_try_ == std::chrono::steady_clock::time_point{}) first_try_ = now;
        if (WriteQueue::worth_retrying(e) && now - first_try_ < kGiveUpAfter) {
            if (!scheduled_) schedule(backoff_);
            backoff_ = std::min(backoff_ * 2, std::chrono::milliseconds(500));
            return;
        }
        log::error(std::string("audit rows could not be written: ") + e.what(), {{"ROWS", std::to_string(pending_.size())}});
        batch.swap(pending_);
        first_try_ = {};
        for (auto& p : batch)
            if (p.done) p.done(false);
        return;
    }
    for (auto& p : batch)
        if (p.done) p.done(true);
}

}  // namespace consult::store
