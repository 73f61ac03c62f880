// Composed recordings to the clinic's Supabase Storage, one at a time, from the durable
// queue (store/upload_store.hpp): the file is hashed off the main loop, uploaded with
// TUS in 6 MiB chunks (a dropped connection resumes from the offset the server says it
// has, also after a restart), then verified — the object's size and the SHA-256 of what
// the server gives back must match the local file — before the session's recording_url
// is set and pushed. The local copy stays until retention. A recording deleted on the
// box is deleted from the storage from the same queue, before any upload: an upload in
// hand stops at its next step, and the object goes (cloud/object_deletion.hpp), retried
// with backoff while the storage cannot be reached. Network waits happen on the HTTP
// client's thread; only short SQLite writes run on the main loop.
#pragma once

#include "appliance/cloud/object_deletion.hpp"
#include "appliance/cloud/storage_api.hpp"
#include "appliance/net/http_client.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/upload_store.hpp"

#include <glib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace consult::cloud {

struct UploadSettings {
    std::string storage_url;                 // ".../storage/v1" (storage::storage_url of [cloud] url); empty: off
    std::string bucket;                      // [cloud] storage_bucket; empty: uploads off (deletions go on)
    std::filesystem::path state_dir;         // the cloud credentials
    std::filesystem::path recordings_dir;    // <state dir>/recordings
    std::chrono::seconds poll{60};           // how often due uploads are looked for
    std::uint64_t chunk_bytes = storage::kChunkBytes;
    std::function<bool()> calls_running;     // while true, no chunk is sent (the call gets the uplink)
};

class RecordingUploader {
public:
    RecordingUploader(store::Database& db, UploadSettings settings, GMainContext* context = nullptr);
    ~RecordingUploader();
    RecordingUploader(const RecordingUploader&) = delete;
    RecordingUploader& operator=(const RecordingUploader&) = delete;

    void start();                    // looks now, then every poll interval
    void kick();                     // a recording became ready or was deleted: look now
    bool enabled() const { return !settings_.bucket.empty() && reaches_storage(); }
    bool reaches_storage() const { return !settings_.storage_url.empty(); }
    bool busy() const { return job_ != nullptr || deletion_ != nullptr; }
    // After an upload is verified or a cloud copy deleted, and the session row queued
    // (the daemon then pushes it).
    void on_rows_queued(std::function<void()> f) { on_rows_queued_ = std::move(f); }
    // An upload given up for good (the recording stays on the box): (session, recording SID, why).
    using GivenUp = std::function<void(const std::string&, const std::string&, const std::string&)>;
    void on_given_up(GivenUp f) { on_given_up_ = std::move(f); }
    std::string metrics_text();

private:
    struct Job;
    void next();
    std::optional<storage::Endpoint> paired_endpoint() const;
    void begin_upload(store::UploadJob row, storage::Endpoint endpoint);
    bool still_wanted();
    void drop();
    void delete_copy(store::CloudCopy copy, storage::Endpoint endpoint);
    void copy_deletion_done(const store::CloudCopy& copy, const ObjectDeletion::Result& result);
    void hash_then(std::function<void()> then);
    void begin_transfer();
    void create();
    void on_created(const net::HttpResponse& r);
    void ask_offset();
    void on_offset(const net::HttpResponse& r);
    void send_chunk();
    void on_chunk(const net::HttpResponse& r);
    void verify();
    void on_info(const net::HttpResponse& r);
    void on_download(const net::HttpResponse& r);
    void finished();
    void refused(const std::string& step, const net::HttpResponse& r);
    void try_later(const std::string& why, std::chrono::seconds at_least = std::chrono::seconds(0));
    void give_up(const std::string& why);
    void start_over(const std::string& why, bool upsert);
    void send(net::HttpRequest request, void (RecordingUploader::*then)(const net::HttpResponse&));
    void schedule(std::chrono::milliseconds delay);

    store::Database& db_;
    UploadSettings settings_;
    GMainContext* context_;
    net::HttpClient http_;
    std::unique_ptr<Job> job_;
    std::unique_ptr<ObjectDeletion> deletion_;   // one request at a time: an upload or a deletion
    guint timer_ = 0;
    std::mt19937 random_{std::random_device{}()};
    std::function<void()> on_rows_queued_;
    GivenUp on_given_up_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    long uploaded_ = 0, resumed_ = 0, verify_failures_ = 0, copies_deleted_ = 0;
};

}  // namespace consult::cloud
