// Status callbacks in Twilio Video's shape, against a real consultd --demo and a clinic
// backend stand-in (tests/standins/callback_receiver.py) that checks every signature with
// Twilio's algorithm and every parameter against docs/status_callbacks.json: a whole call
// told in order, a recording stopped by a full disk, a receiver that is down for a while,
// one that refuses, and a restart of the appliance while callbacks wait.
#include "python_standin.hpp"
#include "shared_daemon.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace consult::test::api {
namespace {

const std::string kToken = "callback-secret-of-the-clinic";

class StatusCallbacksTest : public ::testing::Test {
protected:
    void SetUp() override {
        receiver_ = std::make_unique<PythonStandin>(
            "callback_receiver.py", std::vector<std::string>{kToken, source_dir() + "/docs/status_callbacks.json"});
        std::vector<std::string> args = kFastRateLimit;
        args.insert(args.end(), {"--set", "media.max_width=320", "--set", "media.max_height=240", "--set",
                                 "media.max_fps=15", "--set", "recording.min_free_minutes=1", "--set",
                                 "callbacks.retry_seconds=1", "--set",
                                 "callbacks.room_status_url=" + receiver_->url() + "/room", "--set",
                                 "callbacks.recording_status_url=" + receiver_->url() + "/recording"});
        daemon_ = std::make_unique<ApiDaemon>(args);
        const fs::path creds = daemon_->proc().state_dir() / "credentials";
        fs::create_directories(creds);
        ::chmod(creds.c_str(), 0700);
        std::ofstream(creds / "callback-auth-token") << kToken;
        ::chmod((creds / "callback-auth-token").c_str(), 0600);
        daemon_->start();
        daemon_->wait_for_media();
    }

    ApiDaemon& api() { return *daemon_; }

    using Call = AdmittedCall;
    Call call() { return admitted_call(api(), "phone-cb"); }

    // What the receiver has been sent, as {path, params (name → value), signature_ok, problems, answered}.
    struct Received {
        std::string path;
        std::vector<std::pair<std::string, std::string>> params;
        bool signature_ok = false;
        std::string content_type;
        std::vector<std::string> problems;
        int answered = 0;
        std::string get(const std::string& name) const {
            for (const auto& [k, v] : params)
                if (k == name) return v;
            return "";
        }
    };
    std::vector<Received> received() {
        std::vector<Received> out;
        for (const auto& j : receiver_->get("/_received")) {
            Received r;
            r.path = j["path"];
            for (const auto& p : j["params"]) r.params.emplace_back(p[0], p[1]);
            r.signature_ok = j["signature_ok"];
            r.content_type = j["content_type"];
            for (const auto& p : j["problems"]) r.problems.push_back(p);
            r.answered = j["answered"];
            out.push_back(std::move(r));
        }
        return out;
    }
    // Waits until a callback to `path` for `event` has been answered 2xx.
    bool delivered(const std::string& path, const std::string& event, std::chrono::seconds limit = 30s) {
        for (auto until = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < until;) {
            for (const auto& r : received())
                if (r.path == path && r.get("StatusCallbackEvent") == event && r.answered < 300) return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    }
    // The events delivered (2xx) to `path` for a room, in the order they arrived.
    std::vector<Received> delivered_for(const std::string& path, const std::string& room_sid) {
        std::vector<Received> out;
        for (auto& r : received())
            if (r.path == path && r.get("RoomSid") == room_sid && r.answered < 300) out.push_back(std::move(r));
        return out;
    }
    std::string room_sid(const Session& s) {
        return api().query_column("SELECT twilio_room_sid FROM video_consultation_sessions WHERE id = '" + s.id + "'").at(0);
    }

    // Every callback sent so far was signed as Twilio signs and follows the list.
    void expect_all_well_formed() {
        for (const auto& r : received()) {
            EXPECT_TRUE(r.signature_ok) << r.path << " " << r.get("StatusCallbackEvent") << ": the signature does not verify";
            EXPECT_EQ(r.content_type, "application/x-www-form-urlencoded");
            for (const auto& p : r.problems) ADD_FAILURE() << r.path << " " << r.get("StatusCallbackEvent") << ": " << p;
        }
    }

    std::unique_ptr<PythonStandin> receiver_;
    std::unique_ptr<ApiDaemon> daemon_;
};

TEST_F(StatusCallbacksTest, AWholeCallIsToldInOrderSignedAsTwilioSignsAndAsListed) {
    Call c = call();
    const std::string rm = room_sid(c.s);
    EXPECT_TRUE(std::regex_match(rm, std::regex("RM[0-9a-f]{32}"))) << rm;
    // The doctor mutes and unmutes; the patient agrees to a short recording.
    c.doctor->send({{"type", "media"}, {"audio", false}, {"video", true}});
    c.doctor->send({{"type", "media"}, {"audio", true}, {"video", true}});
    c.doctor->send({{"type", "record"}, {"on", true}});
    ASSERT_TRUE(c.patient->wait_for("consent_request"));
    c.patient->send({{"type", "consent"}, {"given", true}});
    ASSERT_TRUE(delivered("/recording", "recording-started")) << "no recording-started";
    std::this_thread::sleep_for(3s);
    c.doctor->send({{"type", "record"}, {"on", false}});
    ASSERT_TRUE(delivered("/recording", "recording-completed")) << "no recording-completed";
    ASSERT_EQ(api().call("POST", kSessions + "/" + c.s.id + "/end", api().doctor_b).status, 200);
    ASSERT_TRUE(delivered("/room", "room-ended")) << "no room-ended";
    expect_all_well_formed();

    const auto room = delivered_for("/room", rm);
    std::vector<std::string> events;
    for (const auto& r : room) events.push_back(r.get("StatusCallbackEvent"));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front(), "room-created");
    EXPECT_EQ(events.back(), "room-ended");
    for (const char* e : {"participant-connected", "participant-disconnected", "track-added", "track-removed",
                          "track-disabled", "track-enabled", "recording-started", "recording-completed"})
        EXPECT_NE(std::find(events.begin(), events.end(), e), events.end()) << "no " << e << " among the room's callbacks";
    // SequenceNumber counts 0, 1, 2, … and Timestamp never goes back.
    for (size_t i = 0; i < room.size(); ++i) {
        EXPECT_EQ(room[i].get("SequenceNumber"), std::to_string(i)) << events[i];
        if (i) {
            EXPECT_LE(room[i - 1].get("Timestamp"), room[i].get("Timestamp")) << events[i];
        }
    }
    // The SIDs are the rows': the participants' as stored, the doctor's muted track named the same twice.
    const auto participant_sids = api().query_column(
        "SELECT participant_sid FROM video_consultation_participants WHERE session_id = '" + c.s.id + "'");
    std::map<std::string, std::string> track_of;
    for (const auto& r : room) {
        if (r.get("ParticipantSid").empty()) continue;
        EXPECT_NE(std::find(participant_sids.begin(), participant_sids.end(), r.get("ParticipantSid")), participant_sids.end());
        const std::string ev = r.get("StatusCallbackEvent");
        if (ev == "track-disabled" || ev == "track-enabled") track_of[ev] = r.get("TrackSid");
    }
    EXPECT_EQ(track_of["track-disabled"], track_of["track-enabled"]);
    EXPECT_EQ(room.back().get("RoomStatus"), "completed");
    EXPECT_FALSE(room.back().get("RoomDuration").empty());

    const auto rec = delivered_for("/recording", rm);
    ASSERT_EQ(rec.size(), 2u);
    const std::string rt = api().query_column("SELECT recording_sid FROM recordings WHERE session_id = '" + c.s.id + "'").at(0);
    EXPECT_EQ(rec[0].get("RecordingSid"), rt);
    EXPECT_EQ(rec[1].get("RecordingSid"), rt);
    EXPECT_GE(std::stoll(rec[1].get("Duration")), 2);
    EXPECT_GT(std::stoll(rec[1].get("Size")), 10000);
    EXPECT_NE(rec[1].get("RecordingUri").find("/api/video-consultations/sessions/" + c.s.id + "/recording"), std::string::npos);
}

TEST_F(StatusCallbacksTest, AReceiverThatIsDownGetsEverythingLaterInOrderAndARefusalIsNotSentAgain) {
    receiver_->control("answer", {{"status", 503}, {"count", 3}});
    Call c = call();
    const std::string rm = room_sid(c.s);
    ASSERT_TRUE(delivered("/room", "participant-connected", 60s));
    // The first callbacks were answered 503 and came again; nothing was skipped or reordered.
    auto room = delivered_for("/room", rm);
    ASSERT_FALSE(room.empty());
    EXPECT_EQ(room.front().get("StatusCallbackEvent"), "room-created");
    for (size_t i = 0; i < room.size(); ++i) EXPECT_EQ(room[i].get("SequenceNumber"), std::to_string(i));
    int refused_503 = 0;
    for (const auto& r : received()) refused_503 += r.answered == 503;
    EXPECT_EQ(refused_503, 3);

    // A 400 is final: that callback is not sent again, the next ones still go.
    receiver_->control("answer", {{"status", 400}, {"count", 1}});
    c.doctor->send({{"type", "media"}, {"audio", false}, {"video", true}});
    c.doctor->send({{"type", "media"}, {"audio", true}, {"video", true}});
    ASSERT_TRUE(delivered("/room", "track-enabled"));
    std::this_thread::sleep_for(3s);
    int disabled_tries = 0;
    for (const auto& r : received()) disabled_tries += r.get("StatusCallbackEvent") == "track-disabled";
    EXPECT_EQ(disabled_tries, 1) << "a refused callback was sent again";
    const auto metrics = api().call("GET", "/metrics", "").text();
    EXPECT_NE(metrics.find("consult_status_callbacks_total{target=\"room\",result=\"refused\"} 1"), std::string::npos) << metrics;
    EXPECT_NE(metrics.find("consult_status_callbacks_undeliverable 1"), std::string::npos);
    expect_all_well_formed();
}

TEST_F(StatusCallbacksTest, CallbacksWaitingWhenTheApplianceRestartsAreDeliveredAfterIt) {
    receiver_->control("answer", {{"status", 503}, {"count", 100000}});
    Call c = call();
    const std::string rm = room_sid(c.s);
    std::this_thread::sleep_for(2s);
    const auto waiting = api().query_column("SELECT count(*) FROM status_callbacks WHERE state = 'pending'");
    ASSERT_GE(std::stoi(waiting.at(0)), 3) << "room-created and two participants wait";
    c = Call{};
    api().restart();
    receiver_->control("clear");
    ASSERT_TRUE(delivered("/room", "participant-disconnected", 60s));
    auto room = delivered_for("/room", rm);
    ASSERT_FALSE(room.empty());
    EXPECT_EQ(room.front().get("StatusCallbackEvent"), "room-created") << "what waited went first";
    std::set<std::string> seen;
    for (size_t i = 0; i < room.size(); ++i) {
        EXPECT_EQ(room[i].get("SequenceNumber"), std::to_string(i));
        EXPECT_TRUE(seen.insert(room[i].get("SequenceNumber")).second) << "delivered twice";
    }
    expect_all_well_formed();
}

TEST_F(StatusCallbacksTest, ARecordingStoppedByAFullDiskIsToldAsCompletedForWhatWasKeptThenFailed) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small file system";
    const fs::path dir = api().proc().state_dir() / "recordings";
    fs::create_directories(dir);
    SmallDisk disk(dir, "48m");
    ASSERT_EQ(disk.error, "");
    Call c = call();
    const std::string rm = room_sid(c.s);
    c.doctor->send({{"type", "record"}, {"on", true}});
    ASSERT_TRUE(c.patient->wait_for("consent_request"));
    c.patient->send({{"type", "consent"}, {"given", true}});
    ASSERT_TRUE(delivered("/recording", "recording-started")) << "no recording-started";
    std::this_thread::sleep_for(2s);
    disk.take(40);   // something else takes the disk but for about half a minute of recording
    ASSERT_TRUE(delivered("/recording", "recording-failed", 45s)) << "no recording-failed";
    ASSERT_EQ(api().call("POST", kSessions + "/" + c.s.id + "/end", api().doctor_b).status, 200);
    ASSERT_TRUE(delivered("/room", "room-ended")) << "the call went on to its end";
    expect_all_well_formed();

    const auto rec = delivered_for("/recording", rm);
    std::vector<std::string> events;
    for (const auto& r : rec) events.push_back(r.get("StatusCallbackEvent"));
    ASSERT_EQ(events, (std::vector<std::string>{"recording-started", "recording-completed", "recording-failed"}));
    const std::string rt = api().query_column("SELECT recording_sid FROM recordings WHERE session_id = '" + c.s.id + "'").at(0);
    for (const auto& r : rec) EXPECT_EQ(r.get("RecordingSid"), rt) << r.get("StatusCallbackEvent");
    EXPECT_GT(std::stoll(rec[1].get("Size")), 0) << "what was recorded before the disk filled is kept";
    EXPECT_EQ(rec[2].get("FailedOperation"), "RecordingComplete");
    // The room's own sequence tells it too, in the same order, before the room ends.
    std::vector<std::string> room_events;
    for (const auto& r : delivered_for("/room", rm)) room_events.push_back(r.get("StatusCallbackEvent"));
    const auto at = [&](const std::string& e) { return std::find(room_events.begin(), room_events.end(), e) - room_events.begin(); };
    EXPECT_LT(at("recording-started"), at("recording-completed"));
    EXPECT_LT(at("recording-completed"), at("recording-failed"));
    EXPECT_LT(at("recording-failed"), at("room-ended"));
    EXPECT_LT(at("room-ended"), static_cast<std::ptrdiff_t>(room_events.size()));
}

}  // namespace
}  // namespace consult::test::api
