// The cloud sync: every poll interval (or when asked) it pushes the outbox, then
// pulls what changed in the clinic's cloud. All network waits happen on the HTTP
// client's thread; only short SQLite transactions run on the main loop.
#pragma once

#include "appliance/cloud/outbox.hpp"
#include "appliance/cloud/postgrest.hpp"
#include "appliance/cloud/pull.hpp"
#include "appliance/cloud/store_worker.hpp"
#include "appliance/cloud/sync_state.hpp"
#include "appliance/net/http_client.hpp"
#include "appliance/store/database.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace consult::cloud {

struct SyncSettings {
    std::string url;                 // [cloud] url; empty: sync off
    std::string clinic_id;           // [cloud] clinic_id
    int poll_seconds = 60;
    std::chrono::milliseconds request_timeout{10000};
    int page_size = 500;             // rows per read and per upsert
};

class CloudSync {
public:
    // `state_dir` holds the credentials and cloud-sync.json. Callbacks run on `context`.
    CloudSync(store::Database& db, std::filesystem::path state_dir, SyncSettings settings,
              GMainContext* context = nullptr);
    ~CloudSync();
    CloudSync(const CloudSync&) = delete;
    CloudSync& operator=(const CloudSync&) = delete;

    void start();                    // first run now, then every poll_seconds
    void sync_now();                 // a run as soon as the current one (if any) ends
    // The clinic the box was just paired with (on its setup screen, by code): from now on,
    // with a run at once. The credentials are already stored.
    void pair_with(std::string url, std::string clinic_id);
    bool running() const { return running_; }
    bool enabled();                  // url, clinic and both credentials present
    nlohmann::json status();         // for /api/system/cloud and `consultctl status`
    void on_run_end(std::function<void()> f) { on_run_end_ = std::move(f); }

private:
    struct Run;                      // one run's endpoint and progress
    void begin_run();
    void end_run(const std::optional<std::string>& error);
    void push_next();
    void send_window(std::vector<OutboxEntry> entries);
    void send_batch(std::shared_ptr<std::vector<PushBatch>> batches, size_t index);
    void on_push_reply(std::shared_ptr<std::vector<PushBatch>> batches, size_t index, const net::HttpResponse& r);
    void pull_table(size_t index);
    void on_pull_reply(size_t index, const net::HttpResponse& r);
    struct PageResult {               // what the store worker made of one page
        size_t rows = 0;
        std::optional<Cursor> last;
        ApplyResult applied;
        int cancelled = 0;
    };
    void apply_page_body(size_t index, std::shared_ptr<std::string> body);
    void on_page_applied(size_t index, const PageResult& page, const std::string& error);
    template <typename F> void timed(F step);   // runs a step, keeping the longest one's time
    void need_repair(const ServerError& e);
    void record_error(const std::string& what);
    void save_state();
    void schedule(std::chrono::milliseconds delay);
    std::optional<std::string> off_reason();
    std::optional<Endpoint> endpoint();

    store::Database& db_;
    std::filesystem::path state_dir_;
    SyncSettings settings_;
    GMainContext* context_;
    net::HttpClient http_;
    StoreWorker writer_;                     // pulled rows are written off the main loop
    store::OutboxStore outbox_;
    SyncState state_;
    std::unique_ptr<Run> run_;
    bool running_ = false, again_ = false;
    guint timer_ = 0;
    std::int64_t solo_until_seq_ = 0;       // after a refused batch: rows go one by one up to here
    int push_failures_ = 0;                  // consecutive failed requests, for the backoff
    std::optional<std::chrono::steady_clock::time_point> push_not_before_;
    std::optional<std::string> next_attempt_at_;
    std::mt19937 random_{std::random_device{}()};
    std::chrono::microseconds longest_step_{0};   // the longest the sync held the main loop
    std::function<void()> on_run_end_;
    std::set<std::string> warned_missing_;   // "table.column": said once that the cloud lacks it
};

}  // namespace consult::cloud
