#include "appliance/cloud/store_worker.hpp"

#include "appliance/net/context_queue.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace consult::cloud {

struct StoreWorker::Shared {
    explicit Shared(GMainContext* c) : results(c) {}
    std::filesystem::path database;
    net::ContextQueue results;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<std::function<void(store::Database&)>, std::function<void(const std::string&)>>> jobs;
    bool stopping = false;
    std::thread thread;
};

namespace {

void run(const std::shared_ptr<StoreWorker::Shared>& shared) {
    std::optional<store::Database> db;
    for (;;) {
        std::function<void(store::Database&)> job;
        std::function<void(const std::string&)> done;
        {
            std::unique_lock lock(shared->mutex);
            shared->wake.wait(lock, [&] { return shared->stopping || !shared->jobs.empty(); });
            if (shared->jobs.empty()) return;   // stopping, and nothing left: queued writes are never dropped
            std::tie(job, done) = std::move(shared->jobs.front());
            shared->jobs.pop_front();
        }
        std::string error;
        try {
            if (!db) db.emplace(store::Database::open(shared->database));
            job(*db);
        } catch (const std::exception& e) {
            error = e.what();
        }
        shared->results.post([done = std::move(done), error = std::move(error)] { done(error); });
    }
}

}  // namespace

StoreWorker::StoreWorker(std::filesystem::path database, GMainContext* deliver_on)
    : shared_(std::make_shared<Shared>(deliver_on)) {
    shared_->database = std::move(database);
    shared_->thread = std::thread([s = shared_] { run(s); });
}

StoreWorker::~StoreWorker() {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->stopping = true;
    }
    shared_->wake.notify_one();
    shared_->thread.join();   // queued jobs are finished first; only their results are dropped
    shared_->results.drop_pending();
}

void StoreWorker::post(std::function<void(store::Database&)> job, std::function<void(const std::string&)> done) {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->jobs.emplace_back(std::move(job), std::move(done));
    }
    shared_->wake.notify_one();
}

}  // namespace consult::cloud
