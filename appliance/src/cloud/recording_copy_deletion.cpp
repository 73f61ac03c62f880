// The recording uploader's other job: a recording deleted on the box is deleted from
// the clinic's storage too, retried until it is gone (never given up).
#include "appliance/cloud/recording_uploader.hpp"

#include "appliance/cloud/postgrest.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"

#include <algorithm>
#include <random>

namespace consult::cloud {

namespace ch = std::chrono;

void RecordingUploader::delete_copy(store::CloudCopy copy, storage::Endpoint endpoint) {
    auto row = std::make_shared<store::CloudCopy>(std::move(copy));
    deletion_ = std::make_unique<ObjectDeletion>(http_, std::move(endpoint), row->bucket, row->object_path,
                                                 [this, row](ObjectDeletion::Result r) { copy_deletion_done(*row, r); });
    deletion_->start();
}

void RecordingUploader::copy_deletion_done(const store::CloudCopy& copy, const ObjectDeletion::Result& result) {
    deletion_.reset();
    try {
        if (result.gone) {
            store::UploadStore(db_).cloud_copy_deleted(copy.recording_id);
            ++copies_deleted_;
            log::info("the deleted recording's copy is gone from the clinic's storage",
                      {{"SESSION_ID", copy.session_id}});
            if (on_rows_queued_) on_rows_queued_();
            return schedule(ch::milliseconds(0));
        }
        // Never given up: a deleted recording must not stay in the cloud. The metric and log say it waits.
        auto delay = backoff(copy.attempts, std::uniform_real_distribution<double>(0, 1)(random_), ch::seconds(5),
                             ch::hours(1));
        delay = std::max<ch::milliseconds>(delay, result.at_least);
        const std::string at = domain::iso_in(delay);
        store::UploadStore(db_).retry_at(copy.recording_id, result.why, at);
        log::warning("deleting a recording's cloud copy: " + result.why + "; trying again at " + at,
                     {{"SESSION_ID", copy.session_id}});
        schedule(std::min<ch::milliseconds>(delay, settings_.poll));
    } catch (const std::exception& e) {
        log::warning(std::string("deleting a recording's cloud copy: ") + e.what(), {{"SESSION_ID", copy.session_id}});
        schedule(settings_.poll);
    }
}

}  // namespace consult::cloud
