#include "appliance/cloud/recording_uploader.hpp"

#include "appliance/cloud/postgrest.hpp"
#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/file_digest.hpp"
#include "appliance/log.hpp"
#include "appliance/off_loop.hpp"
#include "hwconfig/gref.hpp"

#include <gio/gio.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace consult::cloud {

namespace ch = std::chrono;
namespace fs = std::filesystem;

namespace {

constexpr int kMaxAttempts = 12;        // then the upload is given up (a person looks)
constexpr int kResumesAtOnce = 3;       // dropped connections resumed without waiting, per run
constexpr ch::seconds kCallPause{5};    // how often a paused upload checks whether the call ended

std::string content_type(const fs::path& file) {
    const std::string ext = file.extension().string();
    if (ext == ".mp4") return "video/mp4";
    if (ext == ".webm") return "video/webm";
    if (ext == ".mkv") return "video/x-matroska";
    return "application/octet-stream";
}

}  // namespace

// The upload in hand: the queue's row and what this run learnt.
struct RecordingUploader::Job {
    store::UploadJob row;
    storage::Endpoint endpoint;
    fs::path file;
    std::uint64_t size = 0, offset = 0;
    std::string sha256, bucket, object, upload_url;
    int drops = 0;
    bool replacing = false;   // an object at the path was not ours: replaced (x-upsert) in this run
    void (RecordingUploader::*paused_at)() = nullptr;   // waiting for the call to end, then this
};

RecordingUploader::RecordingUploader(store::Database& db, UploadSettings settings, GMainContext* context)
    : db_(db), settings_(std::move(settings)),
      context_(context ? g_main_context_ref(context) : g_main_context_ref_thread_default()), http_(context_) {
    settings_.chunk_bytes = std::max<std::uint64_t>(settings_.chunk_bytes, 1);
}

RecordingUploader::~RecordingUploader() {
    *alive_ = false;
    if (timer_)
        if (GSource* s = g_main_context_find_source_by_id(context_, timer_)) g_source_destroy(s);
    g_main_context_unref(context_);
}

void RecordingUploader::start() {
    if (reaches_storage()) schedule(ch::milliseconds(0));
}

void RecordingUploader::kick() {
    if (reaches_storage() && !busy()) schedule(ch::milliseconds(0));
}

void RecordingUploader::schedule(ch::milliseconds delay) {
    if (timer_)
        if (GSource* s = g_main_context_find_source_by_id(context_, timer_)) g_source_destroy(s);
    GSource* source = g_timeout_source_new(guint(std::max<long>(0, delay.count())));
    g_source_set_callback(source, [](gpointer p) -> gboolean {
        auto* self = static_cast<RecordingUploader*>(p);
        self->timer_ = 0;
        if (self->job_ && self->job_->paused_at) {
            if (!self->still_wanted()) {   // deleted while waiting for the call
                self->drop();
                return G_SOURCE_REMOVE;
            }
            auto step = std::exchange(self->job_->paused_at, nullptr);
            (self->*step)();
        } else {
            self->next();
        }
        return G_SOURCE_REMOVE;
    }, this, nullptr);
    timer_ = g_source_attach(source, context_);
    g_source_unref(source);
}

void RecordingUploader::next() {
    if (busy() || !reaches_storage()) return;
    auto endpoint = paired_endpoint();
    if (!endpoint) return schedule(settings_.poll);   // not paired (yet)
    std::optional<store::CloudCopy> copy;
    std::optional<store::UploadJob> row;
    try {
        store::UploadStore queue(db_);
        const std::string now = domain::now_iso();
        copy = queue.next_deletion(now);   // a deleted recording must not wait behind a long upload
        if (!copy && enabled()) row = queue.next_due(now);
    } catch (const store::StoreError& e) {
        log::warning(std::string("recording upload: ") + e.what());
        return schedule(settings_.poll);
    }
    if (copy) return delete_copy(std::move(*copy), std::move(*endpoint));
    if (!row) return schedule(settings_.poll);
    begin_upload(std::move(*row), std::move(*endpoint));
}

std::optional<storage::Endpoint> RecordingUploader::paired_endpoint() const {
    Credentials creds(settings_.state_dir);
    auto key = creds.read("cloud-api-key");
    auto token = creds.read("cloud-device-token");
    if (!key || !*key || !token || !*token) return std::nullopt;
    return storage::Endpoint{settings_.storage_url, **key, **token};
}

void RecordingUploader::begin_upload(store::UploadJob row, storage::Endpoint endpoint) {
    job_ = std::make_unique<Job>();
    job_->row = std::move(row);
    job_->endpoint = std::move(endpoint);
    job_->bucket = settings_.bucket;
    job_->file = settings_.recordings_dir / job_->row.media_file;
    // Object names carry the clinic first: the storage's policies file them under it.
    job_->object = job_->row.clinic_id + "/" + job_->row.session_id + "/" + job_->row.recording_sid +
                   job_->file.extension().string();
    std::error_code ec;
    const auto base = fs::weakly_canonical(settings_.recordings_dir, ec);
    const auto file = fs::weakly_canonical(job_->file, ec);
    if (ec || !file.string().starts_with(base.string() + "/") || !fs::is_regular_file(file, ec))
        return give_up("the composed file is not on this box");
    job_->size = fs::file_size(file, ec);
    if (job_->row.sha256 && job_->row.size_bytes == std::int64_t(job_->size)) {
        job_->sha256 = *job_->row.sha256;
        return begin_transfer();
    }
    hash_then([this] { begin_transfer(); });
}

// The recording may have been deleted while a request was out or the upload waited.
bool RecordingUploader::still_wanted() {
    try {
        return store::UploadStore(db_).pending(job_->row.recording_id);
    } catch (const store::StoreError&) {
        return true;   // asked again at the next step
    }
}

void RecordingUploader::drop() {
    log::info("recording upload stopped: the recording was deleted", {{"SESSION_ID", job_->row.session_id}});
    job_.reset();
    schedule(ch::milliseconds(0));   // its cloud copy's deletion, if it needs one, is next
}

void RecordingUploader::hash_then(std::function<void()> then) {
    auto result = std::make_shared<std::string>();
    run_off_loop(
        [result, file = job_->file] {
            *result = sha256_file(file);
            return !result->empty();
        },
        [this, alive = std::weak_ptr<bool>(alive_), job = job_.get(), result, then](bool hashed) {
            auto a = alive.lock();
            if (!a || !*a || job_.get() != job) return;
            if (!hashed) return try_later("cannot read the composed file");
            job_->sha256 = *result;
            store::UploadStore(db_).hashed(job_->row.recording_id, std::int64_t(job_->size), *result);
            then();
        },
        context_);
}

void RecordingUploader::begin_transfer() {
    const auto& r = job_->row;
    if (r.upload_url && r.bucket == job_->bucket && r.object_path == job_->object) {
        job_->upload_url = *r.upload_url;   // an upload begun before (a restart, a lost connection): go on
        return ask_offset();
    }
    create();
}

void RecordingUploader::send(net::HttpRequest request, void (RecordingUploader::*then)(const net::HttpResponse&)) {
    if (!still_wanted()) return drop();
    http_.send(std::move(request), [this, alive = std::weak_ptr<bool>(alive_), job = job_.get(), then](net::HttpResponse r) {
        auto a = alive.lock();
        if (!a || !*a || job_.get() != job) return;
        try {
            if (!store::UploadStore(db_).pending(job_->row.recording_id)) return drop();
            (this->*then)(r);
        } catch (const std::exception& e) {   // the store refused a write: the queue's row says where we were
            log::warning(std::string("recording upload: ") + e.what());
            job_.reset();
            schedule(settings_.poll);
        }
    });
}

void RecordingUploader::create() {
    storage::NewUpload u{job_->bucket, job_->object, job_->size, content_type(job_->file),
                         {{"sha256", job_->sha256}, {"recording_sid", job_->row.recording_sid},
                          {"session_id", job_->row.session_id}},
                         job_->row.upsert};
    send(storage::create_request(job_->endpoint, u), &RecordingUploader::on_created);
}

void RecordingUploader::on_created(const net::HttpResponse& r) {
    switch (storage::classify(r)) {
    case storage::Outcome::Done: {
        auto url = storage::upload_url(job_->endpoint, r);
        if (!url) return try_later("the storage created the upload without a usable Location");
        job_->upload_url = *url;
        job_->offset = 0;
        store::UploadStore(db_).created(job_->row.recording_id, job_->bucket, job_->object, *url);
        return job_->size == 0 ? verify() : send_chunk();
    }
    case storage::Outcome::Exists:   // there already: ours from a run that ended early? Verification says.
        return verify();
    default:
        return refused("creating the upload", r);
    }
}

void RecordingUploader::ask_offset() {
    send(storage::offset_request(job_->endpoint, job_->upload_url), &RecordingUploader::on_offset);
}

void RecordingUploader::on_offset(const net::HttpResponse& r) {
    switch (storage::classify(r)) {
    case storage::Outcome::Done: {
        auto offset = storage::upload_offset(r);
        if (!offset) return try_later("the storage did not say how much it has");
        if (*offset > job_->size) {
            start_over("the storage has more than the file", true);
            return try_later("the storage has more than the file");
        }
        job_->offset = *offset;
        return job_->offset == job_->size ? verify() : send_chunk();
    }
    case storage::Outcome::Gone:   // expired (24 h) or never finished: a new upload
        start_over("the upload expired", job_->row.upsert);
        return create();
    default:
        return refused("asking the upload's offset", r);
    }
}

void RecordingUploader::send_chunk() {
    if (settings_.calls_running && settings_.calls_running()) {   // the call gets the uplink
        job_->paused_at = &RecordingUploader::send_chunk;
        return schedule(kCallPause);
    }
    const std::uint64_t length = std::min(settings_.chunk_bytes, job_->size - job_->offset);
    send(storage::chunk_request(job_->endpoint, job_->upload_url, job_->file.string(), job_->offset, length),
         &RecordingUploader::on_chunk);
}

void RecordingUploader::on_chunk(const net::HttpResponse& r) {
    if (r.transport_failed()) {
        // The server keeps what arrived; it says where to go on from.
        ++resumed_;
        if (++job_->drops > kResumesAtOnce) return try_later("the connection keeps dropping: " + r.error);
        log::info("recording upload: the connection dropped (" + r.error + "); resuming where the storage stopped",
                  {{"SESSION_ID", job_->row.session_id}});
        return ask_offset();
    }
    switch (storage::classify(r)) {
    case storage::Outcome::Done: {
        auto offset = storage::upload_offset(r);
        if (!offset) return ask_offset();
        job_->offset = std::min(*offset, job_->size);
        return job_->offset == job_->size ? verify() : send_chunk();
    }
    case storage::Outcome::Exists:   // the offset moved under us: ask where it is
        return ask_offset();
    case storage::Outcome::Gone:
        start_over("the upload expired", job_->row.upsert);
        return create();
    default:
        return refused("sending a chunk", r);
    }
}

void RecordingUploader::verify() {
    send(storage::info_request(job_->endpoint, job_->bucket, job_->object), &RecordingUploader::on_info);
}

void RecordingUploader::on_info(const net::HttpResponse& r) {
    if (storage::classify(r) == storage::Outcome::Gone) {
        start_over("the object is not in the storage", job_->row.upsert);
        return try_later("the object is not in the storage after its upload");
    }
    if (storage::classify(r) != storage::Outcome::Done) return refused("reading the object's info", r);
    auto info = nlohmann::json::parse(r.body, nullptr, false);
    const bool has_size = info.is_object() && info.contains("size") && info["size"].is_number_integer();
    const auto size = has_size ? info["size"].get<std::uint64_t>() : ~std::uint64_t(0);
    const auto& meta = info.is_object() ? info["metadata"] : nlohmann::json();
    const std::string sha = meta.is_object() && meta["sha256"].is_string() ? meta["sha256"].get<std::string>() : "";
    if (size != job_->size || sha != job_->sha256) {
        ++verify_failures_;
        start_over("another object is at that path", true);
        if (!std::exchange(job_->replacing, true)) return create();   // once at once; then with backoff
        return try_later("the stored object is not this recording (size " + std::to_string(size) + " of " +
                         std::to_string(job_->size) + "); replacing it");
    }
    if (settings_.calls_running && settings_.calls_running()) {
        job_->paused_at = &RecordingUploader::verify;
        return schedule(kCallPause);
    }
    // The size and our own metadata could be an echo: what the storage gives back is what counts.
    send(storage::download_request(job_->endpoint, job_->bucket, job_->object), &RecordingUploader::on_download);
}

void RecordingUploader::on_download(const net::HttpResponse& r) {
    if (storage::classify(r) != storage::Outcome::Done) return refused("reading the object back", r);
    if (r.body_bytes != job_->size || r.body_sha256 != job_->sha256) {
        ++verify_failures_;
        start_over("the stored bytes differ", true);
        return try_later("the stored object's SHA-256 differs from the file's; uploading it again");
    }
    finished();
}

void RecordingUploader::finished() {
    store::UploadStore(db_).done(job_->row.recording_id, job_->bucket, job_->object);
    ++uploaded_;
    log::info("recording uploaded to the clinic's storage and verified",
              {{"SESSION_ID", job_->row.session_id}, {"RECORDING_SID", job_->row.recording_sid},
               {"BYTES", std::to_string(job_->size)}});
    job_.reset();
    if (on_rows_queued_) on_rows_queued_();
    schedule(ch::milliseconds(0));   // the next one, if any
}

void RecordingUploader::refused(const std::string& step, const net::HttpResponse& r) {
    const auto e = storage::parse_error(r);
    const std::string why = step + ": " + e.summary();
    switch (storage::classify(r)) {
    case storage::Outcome::Unauthorized:   // re-pairing, or the bucket's policies: not soon
        return try_later(why, ch::minutes(15));
    case storage::Outcome::Gone:           // e.g. the bucket does not exist (yet)
        return try_later(why, ch::minutes(30));
    case storage::Outcome::TooLarge:
    case storage::Outcome::Rejected:
        return give_up(why);
    default:
        return try_later(why);
    }
}

void RecordingUploader::try_later(const std::string& why, ch::seconds at_least) {
    if (job_->row.attempts + 1 >= kMaxAttempts) return give_up(why + " (tried " + std::to_string(kMaxAttempts) + " times)");
    auto delay = backoff(job_->row.attempts, std::uniform_real_distribution<double>(0, 1)(random_), ch::seconds(5),
                         ch::hours(1));
    delay = std::max<ch::milliseconds>(delay, at_least);
    store::UploadStore(db_).retry_at(job_->row.recording_id, why, domain::iso_in(delay));
    log::warning("recording upload: " + why + "; trying again at " + domain::iso_in(delay), {{"SESSION_ID", job_->row.session_id}});
    job_.reset();
    schedule(std::min<ch::milliseconds>(delay, settings_.poll));
}

void RecordingUploader::give_up(const std::string& why) {
    store::UploadStore(db_).failed(job_->row.recording_id, why);
    log::error("recording upload given up: " + why, {{"SESSION_ID", job_->row.session_id}});
    const store::UploadJob row = job_->row;
    job_.reset();
    if (on_given_up_) on_given_up_(row.session_id, row.recording_sid, why);
    schedule(ch::milliseconds(0));
}

void RecordingUploader::start_over(const std::string& why, bool upsert) {
    log::info("recording upload starts over: " + why, {{"SESSION_ID", job_->row.session_id}});
    store::UploadStore(db_).restart(job_->row.recording_id, upsert);
    job_->upload_url.clear();
    job_->row.upload_url.reset();
    job_->row.upsert = upsert;
    job_->offset = 0;
}

std::string RecordingUploader::metrics_text() {
    std::ostringstream out;
    out << "# HELP consult_recording_uploads Recordings queued for the clinic's storage, by state.\n"
        << "# TYPE consult_recording_uploads gauge\n";
    try {
        for (const auto& [state, n] : store::UploadStore(db_).count_by_state())
            out << "consult_recording_uploads{state=\"" << state << "\"} " << n << "\n";
    } catch (const store::StoreError&) {}
    out << "# HELP consult_recording_upload_events_total Uploads verified, connections resumed, verifications "
           "failed, deleted recordings' cloud copies deleted.\n"
        << "# TYPE consult_recording_upload_events_total counter\n"
        << "consult_recording_upload_events_total{event=\"verified\"} " << uploaded_ << "\n"
        << "consult_recording_upload_events_total{event=\"resumed\"} " << resumed_ << "\n"
        << "consult_recording_upload_events_total{event=\"verify_failed\"} " << verify_failures_ << "\n"
        << "consult_recording_upload_events_total{event=\"copy_deleted\"} " << copies_deleted_ << "\n";
    return out.str();
}

}  // namespace consult::cloud
