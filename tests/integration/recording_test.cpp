// Recording with the patient's consent, against a real consultd --demo: nothing starts
// without the patient's yes (REST or the socket), "no" is final for that request and
// the once-a-minute limit holds, yes records, a withdrawal stops it and the clinic's
// policy applies, the call's end composes one file that a <video> can seek (range
// requests), every read is logged, and only the session's doctor or an admin reach it.
#include "shared_daemon.hpp"
#include "ws_client.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace consult::test::api {
namespace {

const std::vector<std::string> kArgs = {"--set", "http.rate_limit_per_minute=1000000", "--set",
                                        "http.rate_limit_burst=100000", "--set", "media.max_width=320",
                                        "--set", "media.max_height=240", "--set", "media.max_fps=15",
                                        "--set", "recording.retention_days=7"};

// A daemon whose recordings have room for about a minute and a half once it is set up
// (a call writes at least 2.1 Mbit/s as the hub counts it: 16 MB a minute).
const std::vector<std::string> kSmallDiskArgs = {"--set", "http.rate_limit_per_minute=1000000", "--set",
                                                 "http.rate_limit_burst=100000", "--set", "media.max_width=320",
                                                 "--set", "media.max_height=240", "--set", "media.max_fps=15",
                                                 "--set", "recording.min_free_minutes=1"};

template <const std::vector<std::string>& Args>
class RecordingSuite : public SharedDaemonSuite<Args> {
protected:
    using SharedDaemonSuite<Args>::api;
    using SharedDaemonSuite<Args>::open;

    using Call = AdmittedCall;
    Call call() { return admitted_call(api(), "phone-rec"); }

    Reply record(const Session& s, const char* action, const std::string& token) {
        return api().call("POST", kSessions + "/" + s.id + "/recording", token, {{"action", action}});
    }

    // The next `recording` message whose field `key` is `value`.
    static std::optional<json> recording_where(WsClient& c, const char* key, const json& value,
                                               std::chrono::seconds wait = 10s) {
        const auto until = std::chrono::steady_clock::now() + wait;
        while (std::chrono::steady_clock::now() < until) {
            auto m = c.wait_for("recording", std::chrono::duration_cast<std::chrono::seconds>(until - std::chrono::steady_clock::now()) + 1s);
            if (!m) return std::nullopt;
            if ((*m).contains(key) && (*m)[key] == value) return m;
        }
        return std::nullopt;
    }

    json recording_row(const Session& s) {
        auto r = api().call("GET", kSessions + "/" + s.id + "/recording", api().admin);
        return r.status == 200 ? r.body : json{{"status", r.status}};
    }

    json wait_state(const Session& s, const std::string& state, std::chrono::seconds wait) {
        const auto until = std::chrono::steady_clock::now() + wait;
        json row;
        while (std::chrono::steady_clock::now() < until) {
            row = recording_row(s);
            if (row.value("state", "") == state) return row;
            std::this_thread::sleep_for(300ms);
        }
        return row;
    }

};

using RecordingTest = RecordingSuite<kArgs>;

TEST_F(RecordingTest, NothingIsRecordedWithoutThePatientsYesAndNoIsFinalForThatRequest) {
    Call c = call();
    // REST start without consent: 409, and the patient is asked on their screen.
    auto first = record(c.s, "start", api().doctor_b);
    EXPECT_EQ(first.status, 409) << first.text();
    EXPECT_EQ(first.body["error"]["code"], "consent_required");
    auto asked = c.patient->wait_for("consent_request");
    ASSERT_TRUE(asked);
    EXPECT_NE((*asked)["text"].get<std::string>().find("7 days"), std::string::npos) << "the clinic's retention is said";
    ASSERT_TRUE(recording_where(*c.doctor, "state", "asking"));
    // Asking again while the question is open: still 409, nothing recorded.
    EXPECT_EQ(record(c.s, "start", api().doctor_b).status, 409);
    // The socket's record{on} is held to the same rule.
    c.doctor->send({{"type", "record"}, {"on", true}});
    EXPECT_EQ(recording_row(c.s)["status"], 404) << "no recording row before a yes";

    c.patient->send({{"type", "consent"}, {"given", false}});
    auto declined = recording_where(*c.doctor, "consent", "declined");
    ASSERT_TRUE(declined);
    EXPECT_EQ((*declined)["state"], "off");
    EXPECT_NE((*declined).value("message", "").find("said no"), std::string::npos);
    // A late yes to the declined request records nothing.
    c.patient->send({{"type", "consent"}, {"given", true}});
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(recording_row(c.s)["status"], 404);
    // Asking again within the minute: refused with when to ask again.
    auto soon = record(c.s, "start", api().doctor_b);
    EXPECT_EQ(soon.status, 409);
    EXPECT_TRUE(soon.raw.header("retry-after")) << soon.text();
    // The consent rows say what happened, with the text's version.
    auto rows = api().query_column("SELECT answer FROM recording_consents WHERE session_id = '" + c.s.id + "'");
    EXPECT_EQ(rows, (std::vector<std::string>{"declined"}));
    EXPECT_EQ(api().query_column("SELECT count(*) FROM audit_log WHERE session_id = '" + c.s.id +
                                 "' AND action LIKE 'recording.consent_%'"),
              (std::vector<std::string>{"2"}));
    // A patient cannot start it, nor can another doctor; the doctor's screen cannot answer for the patient.
    EXPECT_EQ(record(c.s, "start", c.s.patient_token).status, 403);
    EXPECT_EQ(record(c.s, "start", api().doctor_a).status, 403);
    c.doctor->send({{"type", "consent"}, {"given", true}});
    EXPECT_EQ(c.doctor->wait_closed(5s), 4403);
}

TEST_F(RecordingTest, AYesRecordsAndTheEndOfTheCallComposesOneFileToReviewWithRanges) {
    Call c = call();
    c.doctor->send({{"type", "record"}, {"on", true}});
    ASSERT_TRUE(c.patient->wait_for("consent_request"));
    c.patient->send({{"type", "consent"}, {"given", true}});
    auto on = recording_where(*c.doctor, "state", "on");
    ASSERT_TRUE(on) << "the doctor's screen shows the recording";
    ASSERT_TRUE(recording_where(*c.patient, "state", "on")) << "the patient's screen shows it too";
    EXPECT_EQ(recording_row(c.s)["state"], "recording");
    std::this_thread::sleep_for(5s);
    auto stop = record(c.s, "stop", api().doctor_b);
    ASSERT_EQ(stop.status, 200) << stop.text();
    ASSERT_TRUE(recording_where(*c.doctor, "state", "off"));
    // The part is on disk, mode 0600, in a 0700 directory outside every served path.
    auto part = wait_state(c.s, "paused", 10s);
    ASSERT_EQ(part["state"], "paused") << part.dump();
    const auto dir = api().proc().state_dir() / "recordings" / c.s.id;
    struct stat st {};
    ASSERT_EQ(::stat((dir / "part-1.mkv").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_GT(part["size_bytes"].get<long>(), 1000);

    // The end of the call composes; then the doctor reviews it through a short-lived link.
    auto end = api().call("POST", kSessions + "/" + c.s.id + "/end", api().doctor_b);
    ASSERT_EQ(end.status, 200) << end.text();
    auto ready = wait_state(c.s, "ready", 90s);
    ASSERT_EQ(ready["state"], "ready") << ready.dump();
    EXPECT_NEAR(ready["duration_ms"].get<double>(), 5000, 2500);
    auto mine = api().call("GET", kSessions + "/" + c.s.id + "/recording", api().doctor_b);
    ASSERT_EQ(mine.status, 200);
    const std::string url = mine.body["media_url"].get<std::string>();
    auto whole = api().proc().http("GET", url, "", {}, 10000);
    EXPECT_EQ(whole.status, 200);
    EXPECT_EQ(whole.header("content-type").value_or(""), "video/mp4");
    EXPECT_EQ(long(whole.body.size()), ready["size_bytes"].get<long>());
    EXPECT_EQ(whole.body.substr(4, 4), "ftyp") << "an MP4 file";
    EXPECT_EQ(ready["container"], "mp4");
    auto part_range = api().proc().http("GET", url, "", {"Range: bytes=100-199"});
    EXPECT_EQ(part_range.status, 206);
    EXPECT_EQ(part_range.body, whole.body.substr(100, 100));
    EXPECT_EQ(part_range.header("content-range").value_or(""), "bytes 100-199/" + std::to_string(whole.body.size()));
    auto tail = api().proc().http("GET", url, "", {"Range: bytes=-10"});
    EXPECT_EQ(tail.status, 206);
    EXPECT_EQ(tail.body, whole.body.substr(whole.body.size() - 10));
    auto bad = api().proc().http("GET", url, "", {"Range: bytes=" + std::to_string(whole.body.size() + 5) + "-"});
    EXPECT_EQ(bad.status, 416);
    EXPECT_EQ(bad.header("content-range").value_or(""), "bytes */" + std::to_string(whole.body.size()));
    EXPECT_EQ(api().proc().http("GET", url.substr(0, url.size() - 4) + "0000").status, 401) << "a made-up ticket";
    EXPECT_EQ(api().proc().http("GET", kSessions + "/" + c.s.id + "/recording/media").status, 401);
    // Another doctor may not read it; every read and download is in the access log.
    EXPECT_EQ(api().call("GET", kSessions + "/" + c.s.id + "/recording", api().doctor_a).status, 403);
    auto log = api().call("GET", "/api/recordings/access-log?session_id=" + c.s.id, api().admin);
    ASSERT_EQ(log.status, 200) << log.text();
    std::set<std::string> actions;
    for (const auto& e : log.body["entries"]) actions.insert(e["action"].get<std::string>() + ":" + e["actor_role"].get<std::string>());
    EXPECT_TRUE(actions.count("read:doctor") && actions.count("download:doctor")) << log.body.dump();
    EXPECT_EQ(api().call("GET", "/api/recordings/access-log", api().doctor_b).status, 403);

    // Deletion on request: admin only; the media is gone, the row says who and why.
    EXPECT_EQ(api().call("DELETE", kSessions + "/" + c.s.id + "/recording", api().doctor_b).status, 403);
    auto del = api().call("DELETE", kSessions + "/" + c.s.id + "/recording", api().admin, {{"reason", "patient asked"}});
    ASSERT_EQ(del.status, 200) << del.text();
    EXPECT_EQ(del.body["state"], "deleted");
    EXPECT_EQ(del.body["deleted_by"], kAdminId);
    EXPECT_EQ(del.body["delete_reason"], "patient asked");
    EXPECT_EQ(api().proc().http("GET", url).status, 404);
    EXPECT_FALSE(fs::exists(dir)) << "no media left on disk";
    EXPECT_EQ(recording_row(c.s)["state"], "deleted");
}

TEST_F(RecordingTest, AWithdrawalStopsAtOnceAndTheClinicsPolicyDeletesWhatWasRecorded) {
    Call c = call();
    ASSERT_EQ(record(c.s, "start", api().doctor_b).status, 409);
    ASSERT_TRUE(c.patient->wait_for("consent_request"));
    c.patient->send({{"type", "consent"}, {"given", true}});
    ASSERT_TRUE(recording_where(*c.doctor, "state", "on"));
    std::this_thread::sleep_for(3s);
    c.patient->send({{"type", "consent"}, {"given", false}});
    auto told = recording_where(*c.doctor, "withdrawn", true);
    ASSERT_TRUE(told);
    EXPECT_EQ((*told)["state"], "off");
    EXPECT_NE((*told)["message"].get<std::string>().find("deleted"), std::string::npos);
    auto row = wait_state(c.s, "deleted", 15s);
    EXPECT_EQ(row["state"], "deleted") << row.dump();
    EXPECT_EQ(row["delete_reason"], "the patient withdrew their consent");
    EXPECT_FALSE(fs::exists(api().proc().state_dir() / "recordings" / c.s.id));
    EXPECT_EQ(api().query_column("SELECT answer FROM recording_consents WHERE session_id = '" + c.s.id + "'"),
              (std::vector<std::string>{"withdrawn"}));
    // The call goes on: chat still flows.
    c.patient->send({{"type", "chat"}, {"text", "still here"}});
    EXPECT_TRUE(c.doctor->wait_for("chat"));
}

TEST_F(RecordingTest, RecordingOutsideACallOrWithoutAValidActionIsRefused) {
    Session s = api().scheduled_session();
    auto r = record(s, "start", api().doctor_b);
    EXPECT_EQ(r.status, 409) << r.text();
    EXPECT_EQ(r.body["error"]["code"], "not_in_call");
    EXPECT_EQ(record(s, "rewind", api().doctor_b).status, 400);
    EXPECT_EQ(api().call("POST", kSessions + "/" + s.id + "/recording", api().doctor_b, json::array()).status, 400);
    EXPECT_EQ(recording_row(s)["status"], 404);
    EXPECT_EQ(api().call("DELETE", kSessions + "/" + s.id + "/recording", api().admin).status, 404);
}

TEST_F(RecordingTest, TheClinicsSettingsApplyAtOnceAndAreKeptForTheNextStart) {
    auto before = api().call("GET", "/api/system/recording", api().admin);
    ASSERT_EQ(before.status, 200) << before.text();
    EXPECT_EQ(before.body["retention_days"], 7);
    EXPECT_EQ(api().call("GET", "/api/system/recording", api().doctor_b).status, 403);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().doctor_b, {{"retention_days", 9}}).status, 403);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().admin, {{"retention_days", 0}}).status, 422);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().admin, {{"on_withdrawal", "archive"}}).status, 422);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().admin, {{"enabled", "yes"}}).status, 400);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().admin, {{"colour", "red"}}).status, 422);
    EXPECT_EQ(api().call("PUT", "/api/system/recording", api().admin, json::object()).status, 422);
    auto put = api().call("PUT", "/api/system/recording", api().admin, {{"retention_days", 21}, {"include_patient", false}});
    ASSERT_EQ(put.status, 200) << put.text();
    EXPECT_EQ(put.body["retention_days"], 21);
    // The next question says the new settings.
    Call c = call();
    ASSERT_EQ(record(c.s, "start", api().doctor_b).status, 409);
    auto asked = c.patient->wait_for("consent_request");
    ASSERT_TRUE(asked);
    EXPECT_NE((*asked)["text"].get<std::string>().find("21 days"), std::string::npos);
    EXPECT_NE((*asked)["text"].get<std::string>().find("not your camera"), std::string::npos);
    EXPECT_EQ((*asked)["includes_patient"], false);
    // Turned off: refused plainly, for REST and the socket alike.
    ASSERT_EQ(api().call("PUT", "/api/system/recording", api().admin, {{"enabled", false}}).status, 200);
    auto off = record(c.s, "start", api().doctor_b);
    EXPECT_EQ(off.status, 403);
    EXPECT_EQ(off.body["error"]["code"], "recording_disabled");
    // Kept across a restart (in the state directory's devices.conf), except where the
    // command line says otherwise: this daemon runs with --set recording.retention_days=7.
    api().restart();
    auto after = api().call("GET", "/api/system/recording", api().admin);
    EXPECT_EQ(after.body["enabled"], false);
    EXPECT_EQ(after.body["include_patient"], false);
    EXPECT_EQ(after.body["retention_days"], 7) << "a --set option still wins";
    ASSERT_EQ(api().call("PUT", "/api/system/recording", api().admin,
                         {{"enabled", true}, {"retention_days", 7}, {"include_patient", true}}).status, 200);
    api().wait_for_media();
    // The clinic's list names whose recording each is.
    auto list = api().call("GET", "/api/recordings", api().admin);
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(api().call("GET", "/api/recordings", api().doctor_b).status, 403);
    for (const auto& r : list.body["recordings"]) EXPECT_TRUE(r["patient"].is_string()) << r.dump();
}

// ---- a disk that fills while recording

class RecordingDiskTest : public RecordingSuite<kSmallDiskArgs> {};

TEST_F(RecordingDiskTest, ADiskFillingMidRecordingStopsTheRecordingWithAMessageAndTheCallGoesOn) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small file system";
    const fs::path dir = api().proc().state_dir() / "recordings";
    fs::create_directories(dir);
    SmallDisk disk(dir, "48m");
    ASSERT_EQ(disk.error, "");

    Call c = call();
    c.doctor->send({{"type", "record"}, {"on", true}});
    ASSERT_TRUE(c.patient->wait_for("consent_request"));
    c.patient->send({{"type", "consent"}, {"given", true}});
    ASSERT_TRUE(recording_where(*c.doctor, "state", "on")) << "48 MB is room for the minute asked";
    std::this_thread::sleep_for(2s);
    disk.take(40);   // something else takes the disk but for about half a minute of recording
    auto failed = recording_where(*c.doctor, "failed", true, 30s);
    ASSERT_TRUE(failed) << "the recording ran on into a full disk";
    EXPECT_EQ((*failed)["state"], "off");
    EXPECT_NE((*failed).value("message", "").find("disk is nearly full"), std::string::npos) << *failed;
    EXPECT_NE((*failed).value("message", "").find("The call goes on"), std::string::npos) << *failed;
    ASSERT_TRUE(recording_where(*c.patient, "state", "off")) << "the patient's red mark goes too";
    // The call goes on: the doctor still hears how the patient's link is, and nobody was ended.
    EXPECT_TRUE(c.doctor->wait_for("quality", 15s));
    EXPECT_FALSE(c.patient->is_closed());
    EXPECT_TRUE(api().proc().running());
    EXPECT_EQ(api().call("GET", "/healthz", "").status, 200);
    // What was recorded before is kept, and starting again is refused while the disk is short.
    EXPECT_EQ(recording_row(c.s)["state"], "paused");
    auto again = record(c.s, "start", api().doctor_b);
    EXPECT_EQ(again.status, 507) << again.text();
}

}  // namespace
}  // namespace consult::test::api
