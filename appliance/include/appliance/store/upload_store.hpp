// The durable queue of composed recordings on their way to the clinic's storage
// (recording_uploads, migrations 9 and 10): one row per ready recording, made in the
// commit that marks it ready; it keeps the TUS upload's URL so an upload resumes after a
// restart, and says when to try again. Finishing writes the session's recording_url
// and queues the session and the recording for the cloud, in one transaction.
// A recording deleted on the box turns its row into the deletion of its cloud copy
// (`deleting`), retried from the same queue until the storage no longer has it
// (`deleted`): then recording_url is cleared, and both rows queued again.
#pragma once

#include "appliance/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace consult::store {

struct UploadJob {
    std::string recording_id, session_id, recording_sid, clinic_id;
    std::string media_file;                         // relative to the recordings directory
    std::optional<std::string> bucket, object_path, upload_url, sha256;
    std::optional<std::int64_t> size_bytes;         // what sha256 was taken over
    bool upsert = false;
    int attempts = 0;
};

// The cloud copy of a deleted recording, to be deleted from the storage.
struct CloudCopy {
    std::string recording_id, session_id, bucket, object_path;
    int attempts = 0;
};

class UploadStore {
public:
    explicit UploadStore(Database& db) : db_(db) {}

    // The oldest pending upload whose time has come, of a recording still ready.
    std::optional<UploadJob> next_due(const std::string& now_iso);
    void hashed(const std::string& recording_id, std::int64_t size, const std::string& sha256);
    // The TUS upload exists at `upload_url`, for this object.
    void created(const std::string& recording_id, const std::string& bucket, const std::string& object_path,
                 const std::string& upload_url);
    // Start again with a new upload (the old one expired or the object must be replaced).
    void restart(const std::string& recording_id, bool upsert);
    void retry_at(const std::string& recording_id, const std::string& error, const std::string& next_iso);
    // Given up until a person looks (too large, refused as it is).
    void failed(const std::string& recording_id, const std::string& error);
    // Uploaded and verified: the session's recording_url is "<bucket>/<object path>".
    void done(const std::string& recording_id, const std::string& bucket, const std::string& object_path);
    // Still to be uploaded? (No longer once the recording is deleted.)
    bool pending(const std::string& recording_id);

    // In the caller's transaction, as the recording is deleted: an upload that never
    // created anything is dropped; any other (begun, done or given up) is to be deleted.
    void delete_cloud_copy(const std::string& recording_id);
    // The oldest deletion whose time has come (before any upload: deletions go first).
    std::optional<CloudCopy> next_deletion(const std::string& now_iso);
    // The storage no longer has it: recording_url cleared, session and recording queued.
    void cloud_copy_deleted(const std::string& recording_id);
    std::vector<std::pair<std::string, std::int64_t>> count_by_state();

private:
    Database& db_;
};

}  // namespace consult::store
