// Writes that must not be lost but have nobody to report a failure to: a screen that
// closed, a timer that fired. Each is tried at once; when SQLite is busy (another
// process holds the lock) or the disk refuses, it waits in order and is tried again
// with backoff, so the main loop never waits long on SQLite and nothing is dropped
// that could still be written. Plain C++: the caller supplies "run this later".
#pragma once

#include "appliance/store/database.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace consult::store {

class WriteQueue {
public:
    using Write = std::function<void(Database&)>;
    using Later = std::function<void(std::chrono::milliseconds, std::function<void()>)>;

    static constexpr std::size_t kMaxPending = 10'000;
    static constexpr std::chrono::milliseconds kFirstRetry{250};
    static constexpr std::chrono::milliseconds kLongestRetry{30'000};

    WriteQueue(Database& db, Later later);
    ~WriteQueue();
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;

    // Runs `write` now if nothing is waiting, else after what is.
    void submit(std::string what, Write write);

    std::size_t pending() const { return pending_.size(); }
    unsigned long retries() const { return retries_; }
    unsigned long dropped() const { return dropped_; }

    // Busy, locked, full or I/O: worth another try later.
    static bool worth_retrying(const StoreError& e);

private:
    struct Pending {
        std::string what;
        Write write;
    };
    void drain();
    void schedule();

    Database& db_;
    Later later_;
    std::deque<Pending> pending_;
    std::chrono::milliseconds backoff_ = kFirstRetry;
    bool scheduled_ = false;
    unsigned long retries_ = 0, dropped_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::store
