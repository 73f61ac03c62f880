// Composed recordings to the clinic's storage, against the Supabase Storage stand-in:
// the uploader in this process on a store of its own (a chunked upload that resumes after
// a dropped connection, a path already taken by other bytes, refusals that wait or give
// up, an outage that ends), then a real consultd whose recording, once ready, is uploaded,
// verified and named in the session's recording_url in the cloud.
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

    std::unique_ptr<consult::cloud::RecordingUploader> make(std::uint64_t chunk = consult::cloud::storage::kChunkBytes) {
        return std::make_unique<consult::cloud::RecordingUploader>(
            db_, consult::cloud::UploadSettings{storage_.api_url(), StorageStandin::kBucket, dir_.path(), dir_.path() / "recordings",
                                       60s, chunk, {}});
    }

    std::string upload(const char* column) {
        auto st = db_.prepare(std::string("SELECT coalesce(") + column + ", '') FROM recording_uploads WHERE recording_id = ?1");
        st.bind(1, std::string_view(recording_));
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
    up->start();
    ASSERT_TRUE(spin_until([&] { return upload("attempts") == "1"; }, 30s));
    EXPECT_EQ(upload("state"), "pending");
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

}  // namespace
}  // namespace consult::test
