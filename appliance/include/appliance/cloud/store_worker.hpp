// Writes for the cloud sync on a thread of their own, with a SQLite connection of their
// own (WAL: the main loop's connection keeps reading meanwhile). A commit with
// synchronous=FULL waits for the disk; here it waits off the main loop. Results come back
// on the GLib context that created the worker; destroying it finishes the queued jobs and
// drops their results.
#pragma once

#include "appliance/store/database.hpp"

#include <glib.h>

#include <filesystem>
#include <functional>
#include <memory>

namespace consult::cloud {

class StoreWorker {
public:
    StoreWorker(std::filesystem::path database, GMainContext* deliver_on);
    ~StoreWorker();
    StoreWorker(const StoreWorker&) = delete;
    StoreWorker& operator=(const StoreWorker&) = delete;

    // `job` runs on the worker with its connection; `done` then runs on the context
    // (with the job's exception, if it threw, as a message; empty on success).
    void post(std::function<void(store::Database&)> job, std::function<void(const std::string& error)> done);

    struct Shared;

private:
    std::shared_ptr<Shared> shared_;
};

}  // namespace consult::cloud
