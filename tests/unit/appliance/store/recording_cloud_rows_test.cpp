// What the cloud gets of a recording: each write of the recording store queues its row
// in the same transaction, filed under the session's clinic, without a path of the box;
// the session's row goes up again with its recording_sid; a ready recording is queued
// for upload; and a push plan sends parents first.
#include "appliance/cloud/outbox.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/outbox_store.hpp"
#include "appliance/store/recording_cloud_rows.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::store {
namespace {

class RecordingCloudRowsTest : public ::testing::Test {
protected:
    void SetUp() override {
        migrate(db_);
        seed_demo(db_, std::chrono::system_clock::now());
        auto st = db_.prepare("SELECT id, clinic_id FROM appointments ORDER BY starts_at LIMIT 1");
        st.step();
        clinic_ = st.text(1);
        session_ = SessionStore(db_).create(st.text(0), 30, "doc").id;
        db_.exec("DELETE FROM outbox");
    }

    // The queued payloads of `table`, oldest first.
    std::vector<nlohmann::json> queued(const std::string& table) {
        std::vector<nlohmann::json> out;
        for (const auto& e : OutboxStore(db_).pending(1000))
            if (e.table == table) out.push_back(e.payload);
        return out;
    }

    test::TempDir dir_;
    Database db_ = Database::open(dir_ / "consult.db");
    std::string clinic_, session_;
};

TEST_F(RecordingCloudRowsTest, AConsentIsQueuedWhenAskedAndAgainWhenAnsweredOrWithdrawn) {
    RecordingStore rs(db_);
    const auto id = rs.consent_asked(session_, std::nullopt, "doc", "1-30-both", "May we record?");
    rs.consent_answered(id, "given");
    rs.consent_answered(id, "declined");   // a second answer changes nothing, so nothing goes up
    rs.consent_withdrawn(id);
    auto rows = queued(kCloudConsents);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0]["id"], id);
    EXPECT_EQ(rows[0]["clinic_id"], clinic_);
    EXPECT_EQ(rows[0]["session_id"], session_);
    EXPECT_EQ(rows[0]["text_version"], "1-30-both");
    EXPECT_TRUE(rows[0]["answer"].is_null());
    EXPECT_EQ(rows[1]["answer"], "given");
    EXPECT_EQ(rows[2]["answer"], "withdrawn");
    EXPECT_TRUE(rows[2]["withdrawn_at"].is_string());
}

TEST_F(RecordingCloudRowsTest, ARecordingGoesUpAsMetadataOnlyAndItsSessionWithTheRecordingSid) {
    RecordingStore rs(db_);
    auto started = rs.begin_part(session_, "doc");
    const RecordingRow& row = started.first;
    rs.end_part(row.id, 1, 4096);
    rs.set_state(row.id, "composing");
    rs.composed(row.id, session_ + "/consultation.mp4", 5000, 2048, "mp4", "h264");

    auto recordings = queued(kCloudRecordings);
    ASSERT_EQ(recordings.size(), 4u) << "recording, paused, composing, ready";
    for (const auto& r : recordings) {
        EXPECT_EQ(r["clinic_id"], clinic_);
        EXPECT_EQ(r["recording_sid"], row.recording_sid);
        // Nothing names a file of this box.
        const std::string text = r.dump();
        EXPECT_EQ(text.find("part-1.mkv"), std::string::npos) << text;
        EXPECT_EQ(text.find("consultation.mp4"), std::string::npos) << text;
        EXPECT_FALSE(r.contains("media_file"));
    }
    EXPECT_EQ(recordings[1]["state"], "paused");
    EXPECT_EQ(recordings[1]["size_bytes"], 4096);
    EXPECT_EQ(recordings[3]["state"], "ready");
    EXPECT_EQ(recordings[3]["parts"], 1);
    EXPECT_EQ(recordings[3]["duration_ms"], 5000);
    EXPECT_TRUE(recordings[3]["storage_object"].is_null()) << "not uploaded yet";

    auto sessions = queued("video_consultation_sessions");
    ASSERT_EQ(sessions.size(), 1u) << "the session goes up again when its recording starts";
    EXPECT_EQ(sessions[0]["recording_sid"], row.recording_sid);
    EXPECT_EQ(SessionStore(db_).find(session_)->recording_sid, row.recording_sid);

    // Ready: queued for the clinic's storage in the same commit.
    auto st = db_.prepare("SELECT state FROM recording_uploads WHERE recording_id = ?1");
    st.bind(1, std::string_view(row.id));
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "pending");
}

TEST_F(RecordingCloudRowsTest, ASessionWithoutARecordingGoesUpWithoutTheRecordingSidColumn) {
    SessionStore(db_).set_notes(session_, "fine");
    auto sessions = queued("video_consultation_sessions");
    ASSERT_EQ(sessions.size(), 1u);
    EXPECT_FALSE(sessions[0].contains("recording_sid")) << "a cloud without 0002 keeps taking sessions";
}

TEST_F(RecordingCloudRowsTest, EveryAccessIsQueuedOnceWithItsOwnUuidAndADeletionKeepsTheRows) {
    RecordingStore rs(db_);
    auto started = rs.begin_part(session_, "doc");
    const std::string rec = started.first.id;
    rs.access(rec, "doc", "doctor", "read", "192.0.2.1");
    rs.access(rec, "doc", "doctor", "download", "192.0.2.1");
    rs.deleted(rec, "admin-1", "patient asked");
    auto access = queued(kCloudAccess);
    ASSERT_EQ(access.size(), 2u);
    EXPECT_TRUE(is_uuid(access[0]["id"].get<std::string>()));
    EXPECT_NE(access[0]["id"], access[1]["id"]);
    EXPECT_EQ(access[0]["recording_id"], rec);
    EXPECT_EQ(access[0]["clinic_id"], clinic_);
    EXPECT_EQ(access[1]["action"], "download");
    EXPECT_EQ(access[1]["address"], "192.0.2.1");
    auto recordings = queued(kCloudRecordings);
    EXPECT_EQ(recordings.back()["state"], "deleted");
    EXPECT_EQ(recordings.back()["deleted_by"], "admin-1");
    EXPECT_EQ(recordings.back()["delete_reason"], "patient asked");
}

TEST_F(RecordingCloudRowsTest, APushSendsTheSessionBeforeConsentsRecordingsAndAccessRows) {
    RecordingStore rs(db_);
    auto started = rs.begin_part(session_, "doc");
    rs.access(started.first.id, "doc", "doctor", "read", "192.0.2.1");
    rs.consent_asked(session_, std::nullopt, "doc", "v", "t");
    std::vector<std::string> order;
    for (const auto& b : cloud::plan_batches(OutboxStore(db_).pending(100), 100)) order.push_back(b.table);
    EXPECT_EQ(order, (std::vector<std::string>{"video_consultation_sessions", "recording_consents", "recordings",
                                               "recording_access"}));
}

}  // namespace
}  // namespace consult::store
