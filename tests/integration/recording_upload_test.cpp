// Composed recordings to the clinic's storage, against the Supabase Storage stand-in:
// the uploader in this process on a store of its own (a chunked upload that resumes after
// a dropped connection, a path already taken by other bytes, refusals that wait or give
// up, an outage that ends; a deleted recording's copy deleted, through an outage, from an
// upload in hand, or waiting while the storage will not), then a real consultd whose
// recording, once ready, is uploaded, verified and named in the session's recording_url
// in the cloud, and deleted from the storage and the cloud's rows when deleted on request
// or by retention.
#include "appliance/cloud/recording_uploader.hpp"
#include "appliance/credentials.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"
#include "cloud_recording.hpp"
#include "storage_standin.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <random>

namespace consult::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string sha256_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    std::string hex;
    for (unsigned i = 0; i < len; ++i) hex += std::string(1, "0123456789abcdef"[md[i] >> 4]) + "0123456789abcdef"[md[i] & 15];
    return hex;
}

// The uploader in this process, with a store holding one ready recording of `bytes`.
class UploaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        store::migrate(db_);
        store::seed_demo(db_, std::chrono::system_clock::now());
        auto st = db_.prepare("SELECT id, clinic_id FROM appointments ORDER BY starts_at LIMIT 1");
        st.step();
        clinic_ = st.text(1);
        session_ = store::SessionStore(db_).create(st.text(0), 30, "doc").id;
        storage_.bucket(StorageStandin::kBucket);
        Credentials creds(dir_.path());
        ASSERT_TRUE(creds.store("cloud-api-key", PostgrestStandin::kApiKey));
        ASSERT_TRUE(creds.store("cloud-device-token", storage_.token(clinic_)));
    }

    // A recording composed into `bytes` random bytes, ready (and so queued for upload).
    void ready_recording(size_t bytes) {
        store::RecordingStore rs(db_);
        auto started = rs.begin_part(session_, "doc");
        recording_ = started.first.id;
        sid_ = started.first.recording_sid;
        rs.end_part(recording_, 1, 10);
        rs.set_state(recording_, "composing");
        fs::create_directories(dir_.path() / "recordings" / session_);
        std::string data(bytes, '\0');
        std::mt19937 random(42);
        for (auto& c : data) c = char(random());
        write_file(media(), data);
        rs.composed(recording_, session_ + "/consultation.mp4", 3000, std::int64_t(bytes), "mp4", "h264");
    }
    fs::path media() const { return dir_.path() / "recordings" / session_ / "consultation.mp4"; }
    std::string object() const { return clinic_ + "/" + session_ + "/" + sid_ + ".mp4"; }

    std::unique_ptr<consult::cloud::RecordingUploader> make(std::uint64_t chunk = consult::cloud::storage::kChunkBytes,
                                                            std::function<bool()> calls_running = {}) {
        return std::make_unique<consult::cloud::RecordingUploader>(
            db_, consult::cloud::UploadSettings{storage_.api_url(), StorageStandin::kBucket, dir_.path(), dir_.path() / "recordings",
                                       60s, chunk, std::move(calls_running)});
    }

    // Deleted on the box (as Recordings::remove does it), then the uploader told.
    void delete_recording(consult::cloud::RecordingUploader& up, const std::string& by) {
        store::RecordingStore(db_).deleted(recording_, by, "asked by the patient");
        up.kick();
    }
    std::optional<std::string> recording_url() { return store::SessionStore(db_).find(session_)->recording_url; }
    // The newest payload of `table` waiting in the outbox.
    json last_queued(const std::string& table) {
        auto st = db_.prepare("SELECT payload FROM outbox WHERE table_name = ?1 ORDER BY seq DESC LIMIT 1");
        st.bind(1, std::string_view(table));
        return st.step() ? json::parse(st.text(0)) : json();
    }

    std::string upload(const char* column) {
        auto st = db_.prepare(std::string("SELECT coalesce(") + column + ", '') FROM recording_uploads WHERE recording_id = ?1");
        st.bind(1, std::string_view(recording_));
        return st.step() ? st.text(0) : "<none>";
    }

    std::string scalar(const std::string& sql) {
        auto st = db_.prepare(sql);
        return st.step() ? st.text(0) : "<none>";
    }

    bool spin_until(const std::function<bool()>& done, std::chrono::seconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < until) {
            while (g_main_context_iteration(nullptr, FALSE)) {}
            g_usleep(5000);
        }
        return done();
    }

    TempDir dir_{"consult-upload"};
    store::Database db_ = store::Database::open(dir_.path() / "consult.db");
    StorageStandin storage_;
    std::string clinic_, session_, recording_, sid_;
};

TEST_F(UploaderTest, AChunkedUploadResumesAfterADroppedConnectionAndIsVerifiedBeforeTheSessionNamesIt) {
    ready_recording((13u << 20) + 12345);   // three chunks: 6 MiB, 6 MiB, the rest
    storage_.fault("drop_mid_patch", 1);
    auto up = make();
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("state") == "done"; }, 60s)) << upload("last_error");
    auto objects = storage_.objects();
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_EQ(objects[0]["name"], object());
    EXPECT_EQ(objects[0]["size"], (13u << 20) + 12345);
    EXPECT_EQ(objects[0]["sha256"], sha256_file(media())) << "the stored bytes are the file's";
    EXPECT_EQ(objects[0]["metadata"]["recording_sid"], sid_);
    EXPECT_EQ(objects[0]["content_type"], "video/mp4");
    auto stats = storage_.stats();
    EXPECT_EQ(stats["faults_served"], 1);
    EXPECT_EQ(stats["creates"], 1) << "resumed, not started again";
    EXPECT_EQ(upload("sha256"), sha256_file(media()));
    EXPECT_TRUE(fs::exists(media())) << "the local copy stays until retention";
    auto session = store::SessionStore(db_).find(session_);
    EXPECT_EQ(session->recording_url.value_or(""), std::string(StorageStandin::kBucket) + "/" + object());
    // The session and the recording's metadata wait in the outbox for the cloud.
    auto st = db_.prepare("SELECT payload FROM outbox WHERE table_name = 'recordings' ORDER BY seq DESC LIMIT 1");
    ASSERT_TRUE(st.step());
    auto row = json::parse(st.text(0));
    EXPECT_EQ(row["storage_object"], std::string(StorageStandin::kBucket) + "/" + object());
    EXPECT_EQ(row["sha256"], sha256_file(media()));
    EXPECT_NE(up->metrics_text().find("event=\"resumed\"} 1"), std::string::npos) << up->metrics_text();
}

TEST_F(UploaderTest, OtherBytesAlreadyAtThePathAreFoundByVerificationAndReplaced) {
    ready_recording(100000);
    // Someone's object at the very path (the storage answers 409 to a plain create).
    auto put = http_request(storage_.port(), "POST", "/storage/v1/object/" + std::string(StorageStandin::kBucket) + "/" + object(),
                            "not the recording",
                            {"apikey: " + std::string(PostgrestStandin::kApiKey),
                             "Authorization: Bearer " + storage_.token(clinic_)}, 5000);
    ASSERT_EQ(put.status, 200) << put.body;
    auto up = make();
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("state") == "done"; }, 60s)) << upload("last_error");
    auto objects = storage_.objects();
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_EQ(objects[0]["sha256"], sha256_file(media()));
    EXPECT_EQ(upload("upsert"), "1") << "replaced on purpose, with x-upsert";
}

TEST_F(UploaderTest, ARefusedTokenWaitsAndAFileOverTheBucketsLimitIsGivenUp) {
    ready_recording(5000);
    ASSERT_TRUE(Credentials(dir_.path()).store("cloud-device-token", "not.a.token"));
    auto up = make();
    std::vector<std::string> given_up;   // what the daemon turns into recording-failed (RecordingUpload)
    up->on_given_up([&](const std::string& session, const std::string& sid, const std::string& why) {
        given_up.push_back(session + " " + sid + " " + why);
    });
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("attempts") == "1"; }, 30s));
    EXPECT_EQ(upload("state"), "pending");
    EXPECT_TRUE(given_up.empty()) << "a refusal that may pass is not a failure yet";
    EXPECT_NE(upload("last_error").find("403 AccessDenied"), std::string::npos) << upload("last_error");
    EXPECT_GT(upload("next_attempt_at"), store::iso_utc(std::time(nullptr) + 14 * 60)) << "not before 15 minutes";

    // Paired again, but the bucket takes at most 1000 bytes: 413, and no retrying.
    storage_.bucket(StorageStandin::kBucket, 1000);
    ASSERT_TRUE(Credentials(dir_.path()).store("cloud-device-token", storage_.token(clinic_)));
    db_.exec("UPDATE recording_uploads SET next_attempt_at = NULL");
    up->kick();
    ASSERT_TRUE(spin_until([&] { return upload("state") == "failed"; }, 30s)) << upload("last_error");
    EXPECT_NE(upload("last_error").find("413"), std::string::npos) << upload("last_error");
    EXPECT_TRUE(storage_.objects().empty());
    ASSERT_EQ(given_up.size(), 1u);
    const std::string sid = scalar("SELECT recording_sid FROM recordings");
    EXPECT_EQ(given_up[0].rfind(scalar("SELECT session_id FROM recordings") + " " + sid + " ", 0), 0u) << given_up[0];
    EXPECT_NE(given_up[0].find("413"), std::string::npos) << given_up[0];
}

TEST_F(UploaderTest, AnOutageIsWaitedOutAndTheUploadArrivesAfterIt) {
    ready_recording(70000);
    storage_.fault("500", 1);
    auto up = make();
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("attempts") == "1"; }, 30s));
    EXPECT_NE(upload("last_error").find("500"), std::string::npos);
    ASSERT_TRUE(spin_until([&] { return upload("state") == "done"; }, 40s)) << upload("last_error");
    EXPECT_EQ(storage_.objects()[0]["sha256"], sha256_file(media()));
}

TEST_F(UploaderTest, ADeletionWhileTheStorageIsDownHappensOnceItIsBack) {
    ready_recording(70000);
    auto up = make();
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("state") == "done"; }, 60s)) << upload("last_error");
    const std::string sha = sha256_file(media());
    storage_.fault("500");
    delete_recording(*up, "admin-1");
    ASSERT_TRUE(spin_until([&] { return upload("attempts") == "2"; }, 40s)) << "tried, then tried again by itself";
    EXPECT_EQ(upload("state"), "deleting");
    EXPECT_NE(upload("last_error").find("500"), std::string::npos) << upload("last_error");
    EXPECT_EQ(storage_.objects().size(), 1u);
    EXPECT_TRUE(recording_url()) << "named while the storage still has it";
    EXPECT_EQ(last_queued("recordings")["state"], "deleted");

    storage_.fault("none");
    ASSERT_TRUE(spin_until([&] { return upload("state") == "deleted"; }, 40s)) << upload("last_error");
    EXPECT_TRUE(storage_.objects().empty());
    EXPECT_FALSE(recording_url());
    EXPECT_TRUE(last_queued("video_consultation_sessions")["recording_url"].is_null()) << "goes up cleared";
    auto row = last_queued("recordings");
    EXPECT_TRUE(row["storage_object"].is_null());
    EXPECT_EQ(row["sha256"], sha) << "the record that it was uploaded stays";
    EXPECT_NE(up->metrics_text().find("event=\"copy_deleted\"} 1"), std::string::npos) << up->metrics_text();
}

TEST_F(UploaderTest, AnUploadInHandStopsWhenItsRecordingIsDeletedAndNothingOfItStays) {
    ready_recording(4 * 65536);
    int chunks = 1;   // one chunk, then "a call runs" and the upload waits between chunks
    auto up = make(65536, [&] { return chunks-- <= 0; });
    up->start();
    ASSERT_TRUE(spin_until([&] { return chunks < 0; }, 30s)) << "waiting for the call: " << upload("last_error");
    ASSERT_EQ(storage_.stats()["chunks"], 1);
    delete_recording(*up, "admin-1");
    ASSERT_TRUE(spin_until([&] { return upload("state") == "deleted"; }, 30s)) << upload("last_error");
    EXPECT_EQ(storage_.stats()["chunks"], 1) << "no chunk after the deletion";
    EXPECT_TRUE(storage_.objects().empty());
    EXPECT_FALSE(recording_url());
}

TEST_F(UploaderTest, AStorageThatWillNotDeleteKeepsTheDeletionWaitingAndSaysWhy) {
    ready_recording(5000);
    auto up = make();
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("state") == "done"; }, 60s)) << upload("last_error");
    storage_.device_delete(false);   // "not found", as the real storage answers when its policies delete no row
    delete_recording(*up, "retention");
    ASSERT_TRUE(spin_until([&] { return upload("attempts") == "1"; }, 30s));
    EXPECT_EQ(upload("state"), "deleting");
    EXPECT_NE(upload("last_error").find("policies"), std::string::npos) << upload("last_error");
    EXPECT_GT(upload("next_attempt_at"), store::iso_utc(std::time(nullptr) + 5 * 3600)) << "not before 6 hours";
    EXPECT_EQ(storage_.objects().size(), 1u);
    EXPECT_TRUE(recording_url());
}

// The whole way: a recorded call ends, is composed, becomes ready, goes up (through a
// dropped connection), is verified, and the cloud's session row names where it is.
class DaemonUploadTest : public cloud::CloudRecordingFixture {
protected:
    DaemonUploadTest() {
        storage.bucket(StorageStandin::kBucket);
        extra_args.insert(extra_args.end(), {"--set", std::string("cloud.storage_bucket=") + StorageStandin::kBucket,
                                             "--set", "cloud.storage_url=" + storage.api_url()});
    }
    StorageStandin storage;

    // A recorded call, uploaded and named in the cloud; the object's "<bucket>/<path>".
    std::string uploaded_call(Recorded& rec) {
        start_paired(3);
        wait_for_media();
        rec = record_call(0, 2s, true);
        const std::string want = std::string(StorageStandin::kBucket) + "/" + cloud::kClinic + "/" + rec.session + "/" +
                                 rec.recording_sid + ".mp4";
        if (!wait_for([&] { return local_value("SELECT state FROM recording_uploads") == "done"; }, 100s))
            throw std::runtime_error("not uploaded: " + local_value("SELECT coalesce(last_error, '') FROM recording_uploads"));
        if (!wait_for([&] { return cloud_session()["recording_url"] == want; }, 30s))
            throw std::runtime_error("the cloud's session does not name it: " + status().dump());
        return want;
    }
    json cloud_session() {
        auto rows = cloud.rows("video_consultation_sessions");
        return rows.size() == 1 ? rows[0] : json::object();
    }
    json cloud_recording() {
        auto rows = cloud.rows("recordings");
        return rows.size() == 1 ? rows[0] : json::object();
    }
    // The cloud's rows say the copy is gone: recording_url and storage_object cleared.
    bool cloud_says_gone() {
        const json s = cloud_session(), r = cloud_recording();
        return s.contains("recording_url") && s["recording_url"].is_null() && r.value("state", "") == "deleted" &&
               r.contains("storage_object") && r["storage_object"].is_null();
    }
};

TEST_F(DaemonUploadTest, AReadyRecordingIsUploadedVerifiedAndItsUrlReachesTheCloud) {
    start_paired(3);
    wait_for_media();
    storage.fault("drop_mid_patch", 1);
    auto rec = record_call(0, 2s, true);
    const std::string want = std::string(StorageStandin::kBucket) + "/" + cloud::kClinic + "/" + rec.session + "/" +
                             rec.recording_sid + ".mp4";
    ASSERT_TRUE(wait_for([&] { return local_value("SELECT state FROM recording_uploads") == "done"; }, 100s))
        << local_value("SELECT state || ' ' || coalesce(last_error, '') FROM recording_uploads") << " / "
        << local_value("SELECT state FROM recordings");
    EXPECT_EQ(local_value("SELECT recording_url FROM video_consultation_sessions WHERE id = '" + rec.session + "'"), want);
    const fs::path file = state_dir() / "recordings" / rec.session / "consultation.mp4";
    auto objects = storage.objects();
    ASSERT_EQ(objects.size(), 1u);
    EXPECT_EQ(objects[0]["sha256"], sha256_file(file));
    EXPECT_EQ(storage.stats()["faults_served"], 1);
    ASSERT_TRUE(wait_for([&] {
        auto rows = cloud.rows("video_consultation_sessions");
        return rows.size() == 1 && rows[0]["recording_url"] == want;
    }, 30s)) << status().dump();
    auto recordings = cloud.rows("recordings");
    ASSERT_EQ(recordings.size(), 1u);
    EXPECT_EQ(recordings[0]["state"], "ready");
    EXPECT_EQ(recordings[0]["storage_object"], want);
    EXPECT_EQ(recordings[0]["sha256"], sha256_file(file));
}

TEST_F(DaemonUploadTest, ARecordingDeletedOnRequestIsDeletedFromTheStorageAndTheCloudNoLongerNamesIt) {
    Recorded rec;
    uploaded_call(rec);
    auto del = daemon->http("DELETE", cloud::kSessions + "/" + rec.session + "/recording", json{{"reason", "patient asked"}}.dump(),
                            {"Authorization: Bearer " + token("admin", "it"), "Content-Type: application/json"}, 10000);
    ASSERT_EQ(del.status, 200) << del.body;
    ASSERT_TRUE(wait_for([&] { return storage.objects().empty(); }, 30s))
        << local_value("SELECT state || ' ' || coalesce(last_error, '') FROM recording_uploads");
    ASSERT_TRUE(wait_for([&] { return cloud_says_gone(); }, 30s)) << cloud_session().dump() << cloud_recording().dump();
    EXPECT_EQ(cloud_recording()["delete_reason"], "patient asked");
    EXPECT_EQ(local_value("SELECT state FROM recording_uploads"), "deleted");
    EXPECT_EQ(local_value("SELECT recording_url IS NULL FROM video_consultation_sessions"), "1");
}

TEST_F(DaemonUploadTest, RetentionDeletesTheCloudCopyToo) {
    Recorded rec;
    uploaded_call(rec);
    daemon->terminate();
    daemon.reset();
    // The call ended long ago: the retention check at start deletes it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((state_dir() / "consult.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE recordings SET ended_at = '2000-01-01T00:00:00.000Z'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    start_daemon();
    ASSERT_TRUE(wait_for([&] { return storage.objects().empty(); }, 30s))
        << local_value("SELECT state || ' ' || coalesce(last_error, '') FROM recording_uploads");
    ASSERT_TRUE(wait_for([&] { return cloud_says_gone(); }, 30s)) << cloud_session().dump() << cloud_recording().dump();
    EXPECT_EQ(cloud_recording()["deleted_by"], "retention");
}

}  // namespace
}  // namespace consult::test
