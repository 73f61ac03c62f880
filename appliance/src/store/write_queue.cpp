#include "appliance/store/write_queue.hpp"

#include "appliance/log.hpp"

#include <algorithm>

namespace consult::store {

WriteQueue::WriteQueue(Database& db, Later later) : db_(db), later_(std::move(later)) {}

WriteQueue::~WriteQueue() {
    *alive_ = false;
    if (!pending_.empty())
        log::error("stopping with " + std::to_string(pending_.size()) + " write(s) the store has not taken yet",
                   {{"FIRST", pending_.front().what}});
}

bool WriteQueue::worth_retrying(const StoreError& e) {
    switch (e.code() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        return true;
    default:
        return false;
    }
}

void WriteQueue::submit(std::string what, Write write) {
    if (pending_.size() >= kMaxPending) {
        ++dropped_;
        log::error("the store has refused writes for a long time; dropping the oldest waiting one",
                   {{"WRITE", pending_.front().what}});
        pending_.pop_front();
    }
    pending_.push_back({std::move(what), std::move(write)});
    if (!scheduled_) drain();
}

void WriteQueue::drain() {
    while (!pending_.empty()) {
        Pending& next = pending_.front();
        try {
            next.write(db_);
        } catch (const StoreError& e) {
            if (worth_retrying(e)) {
                ++retries_;
                log::warning("the store did not take a write; trying again in " + std::to_string(backoff_.count()) +
                                 " ms: " + e.what(),
                             {{"WRITE", next.what}});
                schedule();
                return;
            }
            ++dropped_;
            log::error(std::string("a write was refused for good: ") + e.what(), {{"WRITE", next.what}});
        } catch (const std::exception& e) {
            ++dropped_;
            log::error(std::string("a write failed: ") + e.what(), {{"WRITE", next.what}});
        }
        pending_.pop_front();
        backoff_ = kFirstRetry;
    }
}

void WriteQueue::schedule() {
    scheduled_ = true;
    const auto wait = backoff_;
    backoff_ = std::min(backoff_ * 2, kLongestRetry);
    later_(wait, [this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        scheduled_ = false;
        drain();
    });
}

}  // namespace consult::store
