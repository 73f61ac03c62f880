// The upload queue when a recording is deleted: what never went up is forgotten, what
// went up (or may have) becomes a deletion that goes before any upload, and once the
// storage has deleted it the session's recording_url is cleared and both rows go up.
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/outbox_store.hpp"
#include "appliance/store/recording_cloud_rows.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/store/upload_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::store {
namespace {

constexpr const char* kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

class UploadStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        migrate(db_);
        seed_demo(db_, std::chrono::system_clock::now());
        auto st = db_.prepare("SELECT id FROM appointments ORDER BY starts_at LIMIT 2");
        while (st.step()) appointments_.push_back(st.text(0));
    }

    // A ready recording (so queued for upload) of a new session; its id.
    std::string ready_recording(int i) {
        const std::string session = SessionStore(db_).create(appointments_.at(size_t(i)), 30, "doc").id;
        RecordingStore rs(db_);
        const std::string id = rs.begin_part(session, "doc").first.id;
        rs.end_part(id, 1, 10);
        rs.set_state(id, "composing");
        rs.composed(id, session + "/consultation.mp4", 1000, 10, "mp4", "h264");
        return id;
    }
    void uploaded(const std::string& id) {
        UploadStore q(db_);
        q.hashed(id, 10, kSha);
        q.created(id, "bucket", "clinic/s/RT.mp4", "https://x/storage/v1/upload/resumable/a");
        q.done(id, "bucket", "clinic/s/RT.mp4");
    }
    std::string upload_state(const std::string& id) {
        auto st = db_.prepare("SELECT state FROM recording_uploads WHERE recording_id = ?1");
        st.bind(1, std::string_view(id));
        return st.step() ? st.text(0) : "<none>";
    }
    std::string session_of(const std::string& id) { return RecordingStore(db_).find(id)->session_id; }
    nlohmann::json last_queued(const std::string& table) {
        nlohmann::json out;
        for (const auto& e : OutboxStore(db_).pending(1000))
            if (e.table == table) out = e.payload;
        return out;
    }

    test::TempDir dir_;
    Database db_ = Database::open(dir_ / "consult.db");
    std::vector<std::string> appointments_;
};

TEST_F(UploadStoreTest, ADeletedRecordingWhoseUploadNeverBeganLeavesNothingToDelete) {
    const auto id = ready_recording(0);
    RecordingStore(db_).deleted(id, "admin", "asked");
    EXPECT_EQ(upload_state(id), "<none>");
    EXPECT_FALSE(UploadStore(db_).next_deletion(iso_utc(std::time(nullptr))));
}

TEST_F(UploadStoreTest, ABegunUploadIsStoppedAndItsObjectDeletedToo) {
    const auto id = ready_recording(0);
    UploadStore(db_).created(id, "bucket", "clinic/s/RT.mp4", "https://x/storage/v1/upload/resumable/a");
    RecordingStore(db_).deleted(id, "admin", "asked");
    EXPECT_EQ(upload_state(id), "deleting") << "its last chunk may have completed the object";
    EXPECT_FALSE(UploadStore(db_).pending(id)) << "the upload in hand stops";
    EXPECT_TRUE(last_queued(kCloudRecordings)["storage_object"].is_null()) << "it was never uploaded";
}

TEST_F(UploadStoreTest, AnUploadedCopyIsDeletedBeforeAnyUploadAndThenTheSessionNoLongerNamesIt) {
    const auto deleted = ready_recording(0);
    uploaded(deleted);
    const auto waiting = ready_recording(1);
    RecordingStore(db_).deleted(deleted, "retention", "kept for 30 days");
    EXPECT_EQ(upload_state(deleted), "deleting");
    EXPECT_EQ(last_queued(kCloudRecordings)["storage_object"], "bucket/clinic/s/RT.mp4") << "still there";

    UploadStore q(db_);
    const std::string now = iso_utc(std::time(nullptr));
    auto copy = q.next_deletion(now);
    ASSERT_TRUE(copy);
    EXPECT_EQ(copy->recording_id, deleted);
    EXPECT_EQ(copy->bucket, "bucket");
    EXPECT_EQ(copy->object_path, "clinic/s/RT.mp4");
    EXPECT_EQ(q.next_due(now)->recording_id, waiting) << "the deleted one is no upload any more";

    q.retry_at(deleted, "HTTP 500", iso_utc(std::time(nullptr) + 60));
    EXPECT_FALSE(q.next_deletion(now)) << "not before its time";
    EXPECT_TRUE(q.next_deletion(iso_utc(std::time(nullptr) + 61)));

    db_.exec("DELETE FROM outbox");
    q.cloud_copy_deleted(deleted);
    EXPECT_EQ(upload_state(deleted), "deleted");
    EXPECT_FALSE(SessionStore(db_).find(session_of(deleted))->recording_url);
    auto session = last_queued("video_consultation_sessions");
    EXPECT_EQ(session["id"], session_of(deleted));
    EXPECT_TRUE(session["recording_url"].is_null());
    auto recording = last_queued(kCloudRecordings);
    EXPECT_EQ(recording["state"], "deleted");
    EXPECT_TRUE(recording["storage_object"].is_null());
    EXPECT_EQ(recording["sha256"], kSha) << "the record that it was uploaded stays";
    EXPECT_TRUE(recording["uploaded_at"].is_string());
    EXPECT_FALSE(q.next_deletion(iso_utc(std::time(nullptr) + 3600)));
}

TEST(UploadStoreMigration, RecordingsDeletedBeforeVersion10HaveTheirUploadedCopiesDeletedToo) {
    test::TempDir dir;
    Database db = Database::open(dir / "consult.db");
    migrate(db, 9);
    seed_demo(db, std::chrono::system_clock::now());
    // Two ready recordings, uploaded, as version 9 wrote them (in its own columns: today's
    // stores read columns version 9 did not have).
    auto st = db.prepare("SELECT id FROM appointments ORDER BY starts_at LIMIT 2");
    std::vector<std::string> ids;
    for (int i = 0; st.step(); ++i) {
        const std::string n = std::to_string(i);
        const std::string session = "5e550000-0000-4000-8000-00000000000" + n;
        ids.push_back("7ec00000-0000-4000-8000-00000000000" + n);
        db.prepare("INSERT INTO video_consultation_sessions(id, appointment_id, room_name, status) "
                   "VALUES (?1, ?2, ?3, 'completed')")
            .bind(1, std::string_view(session)).bind(2, std::string_view(st.text(0)))
            .bind(3, std::string_view("room-of-version-nine-" + n))
            .run();
        db.prepare("INSERT INTO recordings(id, session_id, recording_sid, state, started_by, started_at, media_file, "
                   "size_bytes, updated_at) VALUES (?1, ?2, ?3, 'ready', 'doc', '2030-01-01', ?4, 1000, '2030-01-01')")
            .bind(1, std::string_view(ids.back())).bind(2, std::string_view(session))
            .bind(3, std::string_view(new_recording_sid())).bind(4, std::string_view(session + "/consultation.mp4"))
            .run();
        db.prepare("INSERT INTO recording_uploads(recording_id) VALUES (?1)").bind(1, std::string_view(ids.back())).run();
    }
    ASSERT_EQ(ids.size(), 2u);
    db.exec("UPDATE recording_uploads SET state = 'done', bucket = 'b', object_path = 'c/s/RT.mp4', uploaded_at = '2030-01-01'");
    db.exec("UPDATE recordings SET state = 'deleted' WHERE id = '" + ids[0] + "'");   // as version 9 deleted it
    migrate(db);
    auto state = [&](const std::string& id) {
        auto q = db.prepare("SELECT state FROM recording_uploads WHERE recording_id = ?1");
        q.bind(1, std::string_view(id));
        return q.step() ? q.text(0) : "<none>";
    };
    EXPECT_EQ(state(ids[0]), "deleting");
    EXPECT_EQ(state(ids[1]), "done");
    EXPECT_EQ(UploadStore(db).next_deletion(iso_utc(std::time(nullptr)))->recording_id, ids[0]);
}

}  // namespace
}  // namespace consult::store
