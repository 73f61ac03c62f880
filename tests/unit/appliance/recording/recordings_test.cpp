// The recordings on the box, without media: parts and their rows, the composer worker
// (a stand-in script that prints what consult-compose prints), its pause while a call
// runs, deletion that keeps the rows, retention, and the disk-space refusal.
#include "appliance/recording/recordings.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/recording_store.hpp"
#include "appliance/store/session_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <fstream>

namespace consult::recording {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class RecordingsTest : public ::testing::Test {
protected:
    void SetUp() override {
        store::migrate(db_);
        store::seed_demo(db_, std::chrono::system_clock::now());
        auto st = db_.prepare("SELECT id FROM appointments ORDER BY starts_at LIMIT 1");
        st.step();
        session_ = store::SessionStore(db_).create(st.text(0), 30, "doc").id;
    }

    // A composer stand-in: prints progress, then `last` (and exits with `code`), after `sleep` s.
    fs::path composer(const std::string& last, int code = 0, double sleep = 0) {
        const fs::path p = dir_ / "compose.sh";
        std::ofstream(p) << "#!/bin/sh\nout=\"$1\"\necho progress 0.5\nsleep " << sleep
                         << "\nprintf 'webm' > \"$out\"\necho '" << last << "'\nexit " << code << "\n";
        fs::permissions(p, fs::perms::owner_all);
        return p;
    }

    std::unique_ptr<Recordings> make(const fs::path& composer_path) {
        return std::make_unique<Recordings>(RecordingsDeps{db_, config_, dir_ / "recordings", metrics_,
                                                           [this] { return calls_running_; }, composer_path, {}, ".webm",
                                                           [this](const store::RecordingRow& r) { changes_.push_back(r.state); }});
    }

    // One recorded part with a few bytes in it, closed.
    Recordings::Part record_part(Recordings& r) {
        auto part = r.begin_part(session_, "doc");
        std::ofstream(part.file) << std::string(4096, 'x');
        r.end_part(part);
        return part;
    }

    std::string state() { return store::RecordingStore(db_).for_session(session_)->state; }

    // Runs the main loop until `done` or the time is up.
    bool spin_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < until) g_main_context_iteration(nullptr, FALSE), g_usleep(5000);
        return done();
    }

    test::TempDir dir_;
    store::Database db_ = store::Database::open(dir_ / "consult.db");
    Config::Recording config_;
    Metrics metrics_;
    bool calls_running_ = false;
    std::vector<std::string> changes_;
    std::string session_;
};

TEST_F(RecordingsTest, PartsAreNumberedKeptPrivateAndTheRecordingPausesBetweenThem) {
    auto r = make({});
    auto one = r->begin_part(session_, "doc");
    EXPECT_EQ(one.n, 1);
    EXPECT_EQ(one.file, dir_ / "recordings" / session_ / "part-1.mkv");
    EXPECT_EQ(fs::status(dir_ / "recordings").permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_EQ(fs::status(one.file.parent_path()).permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_TRUE(store::is_uuid(one.recording_id));
    EXPECT_EQ(one.recording_sid.size(), 34u);
    EXPECT_EQ(one.recording_sid.substr(0, 2), "RT");
    EXPECT_EQ(state(), "recording");
    std::ofstream(one.file) << "abc";
    r->end_part(one);
    EXPECT_EQ(state(), "paused");
    auto two = r->begin_part(session_, "doc");
    EXPECT_EQ(two.n, 2);
    EXPECT_EQ(two.recording_id, one.recording_id) << "one recording per session, in parts";
    EXPECT_EQ(two.recording_sid, one.recording_sid);
}

TEST_F(RecordingsTest, TheEndOfTheCallComposesOnceNoCallRunsAndTheResultIsRecorded) {
    auto r = make(composer("done 5000 4 webm vp8"));
    record_part(*r);
    calls_running_ = true;
    r->call_ended(session_);
    EXPECT_EQ(state(), "composing");
    g_main_context_iteration(nullptr, FALSE);
    EXPECT_FALSE(r->composing()) << "a call is running: the composer waits";
    calls_running_ = false;
    r->calls_changed();
    ASSERT_TRUE(spin_until([&] { return state() == "ready"; })) << state();
    auto row = *store::RecordingStore(db_).for_session(session_);
    EXPECT_EQ(row.duration_ms, 5000);
    EXPECT_EQ(row.container, "webm");
    EXPECT_EQ(row.codec, "vp8");
    auto path = r->media_path(row);
    ASSERT_TRUE(path);
    EXPECT_EQ(path->filename(), "consultation.webm");
    EXPECT_EQ(changes_, (std::vector<std::string>{"composing", "ready"}));
    EXPECT_NE(r->metrics_text().find("consult_recordings{state=\"ready\"} 1"), std::string::npos);
}

TEST_F(RecordingsTest, AComposerThatFailsOrSaysNothingUsableLeavesAFailedRecordingWithTheReason) {
    auto r = make(composer("error the second part is not a recording", 1));
    record_part(*r);
    r->call_ended(session_);
    ASSERT_TRUE(spin_until([&] { return state() == "failed"; })) << state();
    EXPECT_EQ(store::RecordingStore(db_).for_session(session_)->failure, "the second part is not a recording");
    auto garbled = make(composer("done minus-one bytes", 0));
    store::RecordingStore(db_).set_state(store::RecordingStore(db_).for_session(session_)->id, "paused");
    garbled->call_ended(session_);
    ASSERT_TRUE(spin_until([&] { return state() == "failed"; })) << state();
}

TEST_F(RecordingsTest, ACallThatStartsPausesTheComposerAndItGoesOnAfter) {
    auto r = make(composer("done 1000 4 webm vp8", 0, 1.5));
    record_part(*r);
    r->call_ended(session_);
    ASSERT_TRUE(spin_until([&] { return r->composing(); }, 2s));
    calls_running_ = true;
    r->calls_changed();
    EXPECT_NE(r->metrics_text().find("consult_recording_composing 2"), std::string::npos) << "paused";
    spin_until([] { return false; }, 2500ms);
    EXPECT_EQ(state(), "composing") << "stopped while the call runs";
    calls_running_ = false;
    r->calls_changed();
    ASSERT_TRUE(spin_until([&] { return state() == "ready"; })) << state();
}

TEST_F(RecordingsTest, DeletionRemovesTheMediaAndKeepsTheRowWithWhoAndWhy) {
    auto r = make(composer("done 1000 4 webm vp8"));
    auto part = record_part(*r);
    r->call_ended(session_);
    ASSERT_TRUE(spin_until([&] { return state() == "ready"; }));
    r->remove(part.recording_id, "admin-1", "asked by the patient");
    auto row = *store::RecordingStore(db_).for_session(session_);
    EXPECT_EQ(row.state, "deleted");
    EXPECT_EQ(row.deleted_by, "admin-1");
    EXPECT_EQ(row.delete_reason, "asked by the patient");
    EXPECT_TRUE(row.deleted_at);
    EXPECT_FALSE(row.media_file);
    EXPECT_TRUE(row.parts.empty());
    EXPECT_FALSE(fs::exists(dir_ / "recordings" / session_));
    EXPECT_FALSE(r->media_path(row));
}

TEST_F(RecordingsTest, RetentionDeletesOnlyRecordingsWhoseCallEndedLongerAgo) {
    config_.retention_days = 30;
    auto r = make({});
    auto part = record_part(*r);
    const std::time_t now = std::time(nullptr);
    EXPECT_EQ(r->apply_retention(now), 0);
    EXPECT_EQ(r->apply_retention(now + 29 * 86400), 0);
    EXPECT_EQ(r->apply_retention(now + 31 * 86400), 1);
    auto row = *store::RecordingStore(db_).for_session(session_);
    EXPECT_EQ(row.state, "deleted");
    EXPECT_EQ(row.deleted_by, "retention");
    EXPECT_FALSE(fs::exists(part.file));
    EXPECT_EQ(r->apply_retention(now + 60 * 86400), 0) << "deleted once";
}

TEST_F(RecordingsTest, TooLittleRoomOnTheDiskOrRecordingTurnedOffIsRefusedWithTheReason) {
    auto r = make({});
    struct statvfs v {};
    ASSERT_EQ(statvfs(dir_.path().c_str(), &v), 0);
    const double free_kbit = double(v.f_bavail) * double(v.f_frsize) * 8 / 1000;
    const unsigned too_much = unsigned(std::min(free_kbit / (config_.min_free_minutes * 60) * 2 + 1, 4e9));
    EXPECT_FALSE(r->refusal(1));
    auto no = r->refusal(too_much);
    ASSERT_TRUE(no);
    EXPECT_NE(no->find("30 minutes"), std::string::npos) << *no;
    EXPECT_TRUE(r->nearly_full(unsigned(std::min(free_kbit / 60 * 2 + 1, 4e9))));
    config_.enabled = false;
    EXPECT_NE(r->refusal(1).value_or("").find("turned off"), std::string::npos);
}

TEST_F(RecordingsTest, ARecordingCutShortByAStopIsClosedAndComposedAtTheNextStart) {
    {
        auto r = make({});
        auto part = r->begin_part(session_, "doc");
        std::ofstream(part.file) << std::string(1000, 'x');
    }   // the daemon stopped mid-recording
    auto r = make(composer("done 1000 4 webm vp8"));
    r->recover();
    auto row = *store::RecordingStore(db_).for_session(session_);
    ASSERT_EQ(row.parts.size(), 1u);
    EXPECT_TRUE(row.parts[0].ended_at);
    EXPECT_EQ(row.parts[0].size_bytes, 1000);
    ASSERT_TRUE(spin_until([&] { return state() == "ready"; })) << state();
}

TEST(ConsentTextTest, SaysWhatIsRecordedWhoSeesItAndHowLongItIsKept) {
    Config::Recording c;
    c.retention_days = 14;
    auto both = consent_text(c);
    EXPECT_NE(both.text.find("14 days"), std::string::npos);
    EXPECT_NE(both.text.find("and yours"), std::string::npos);
    EXPECT_NE(both.text.find("administrators"), std::string::npos);
    c.include_patient = false;
    auto room_only = consent_text(c);
    EXPECT_NE(room_only.text.find("not your camera"), std::string::npos);
    EXPECT_NE(room_only.version, both.version) << "a different text is a different version";
}

}  // namespace
}  // namespace consult::recording
