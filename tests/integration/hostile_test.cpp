// The appliance tried as an attacker, a hostile browser and a bad day would try it,
// against a real consultd: each case must leave the daemon answering /healthz and
// other screens unharmed. Limits are set small here so the cases run quickly.
#include "shared_daemon.hpp"
#include "raw_client.hpp"
#include "ws_client.hpp"


#include <fstream>
#include <functional>

#include <sqlite3.h>

#include <algorithm>

namespace consult::test::api {
namespace {

std::string b64url(const std::string& s) {
    std::string out;
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned v = 0;
    int bits = 0;
    for (unsigned char c : s) {
        v = (v << 8) | c;
        bits += 8;
        while (bits >= 6) out += a[(v >> (bits -= 6)) & 63];
    }
    if (bits) out += a[(v << (6 - bits)) & 63];
    return out;
}

// The token from the report: a header whose alg is a number, checked before any signature.
const std::string kAlgNumberToken = b64url(R"({"alg":1})") + "." + b64url(R"({"sub":"x","exp":4000000000})") + ".c2ln";

const std::vector<std::string> kArgs = {
    "--set", "http.rate_limit_per_minute=1000000", "--set", "http.rate_limit_burst=100000",
    "--set", "http.header_timeout_seconds=2", "--set", "http.idle_timeout_seconds=3", "--set", "http.body_timeout_seconds=3",
    "--set", "media.max_width=320", "--set", "media.max_height=240", "--set", "media.max_fps=15",
    "--set", "sessions.rejoin_seconds=0"};

class Hostile : public SharedDaemonSuite<kArgs> {
protected:
    static void SetUpTestSuite() {
        raise_own_file_limit(4096);
        SharedDaemonSuite::SetUpTestSuite();
    }
    int port() { return api().proc().port(); }
    std::unique_ptr<WsClient> patient(const Session& s, const std::string& device = "dev-1") {
        auto c = open();
        c->send({{"type", "hello"}, {"token", s.patient_token}, {"device", device}});
        if (!c->wait_for("welcome")) setup_failed("no welcome for the patient");
        return c;
    }
    // A doctor's screen on `s`, and its patient admitted from the waiting room.
    struct Admitted {
        std::unique_ptr<WsClient> doctor, patient;
    };
    Admitted admitted_call(const Session& s) {
        Admitted a{open(), nullptr};
        a.doctor->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
        if (!a.doctor->wait_for("welcome")) setup_failed("no welcome for the doctor");
        a.patient = patient(s);
        if (!a.patient->wait_for("waiting")) setup_failed("the patient did not wait");
        if (api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status != 200) setup_failed("admit refused");
        return a;
    }
    // The daemon still answers, and fast: from another source address than any flood.
    void expect_healthy(const char* after) {
        auto [status, ms] = timed_healthz(port(), "127.0.0.250", 5s);
        EXPECT_EQ(status, 200) << "after " << after;
        EXPECT_LT(ms, 2000) << "after " << after;
        EXPECT_TRUE(api().proc().running()) << "consultd died after " << after << ":\n" << api().proc().stderr_text();
    }

};

TEST_F(Hostile, ATokenWhoseAlgIsNotAStringIsRefusedOnTheSocketAndOverRest) {
    auto c = open();
    c->send({{"type", "hello"}, {"token", kAlgNumberToken}});
    EXPECT_EQ(c->wait_closed(), 4401);
    EXPECT_TRUE(is_error(api().call("GET", kSessions, kAlgNumberToken), 401, "invalid_token"));
    expect_healthy("a token with a numeric alg");
}

TEST_F(Hostile, DoctorMessagesWithReasonsOfEveryTypeNeverStopTheDaemon) {
    Session s = api().scheduled_session();
    auto doc = open();
    doc->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
    ASSERT_TRUE(doc->wait_for("welcome"));
    for (const json& reason : {json(5), json(nullptr), json::array({1}), json::object(), json(true)})
        for (const char* type : {"admit", "view", "share", "reconnect_media"}) {
            json m{{"type", type}, {"reason", reason}};
            if (std::string(type) == "share") m["on"] = true;
            doc->send(m);
            if (doc->is_closed()) doc = open(), doc->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
        }
    expect_healthy("doctor messages with odd reasons");
    auto c = open();
    c->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
    ASSERT_TRUE(c->wait_for("welcome"));
    c->send({{"type", "decline"}, {"reason", 5}});
    EXPECT_EQ(c->wait_closed(), 4400) << "a reason that is not text is a malformed message";
}

TEST_F(Hostile, AStoreLockedByAnotherProcessKeepsTheDaemonAnsweringAndLosesNothing) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    const std::string participant =
        api().query_column("SELECT id FROM video_consultation_participants WHERE session_id = '" + s.id + "'").at(0);

    sqlite3* other = nullptr;   // a backup, consultctl, a sync worker: anyone holding the write lock
    ASSERT_EQ(sqlite3_open(api().db_path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);

    pat->close();   // the patient leaves while the store cannot be written
    double worst = 0;
    int busy_answers = 0;
    for (int i = 0; i < 20; ++i) {
        auto [status, ms] = timed_healthz(port(), "127.0.0.250", 5s);
        EXPECT_EQ(status, 200);
        worst = std::max(worst, ms);
        auto h = api().call("GET", "/healthz", "");
        busy_answers += h.body.value("db", "") == "busy";
        std::this_thread::sleep_for(150ms);
    }
    EXPECT_LT(worst, 1000) << "/healthz waited on the lock";
    EXPECT_GT(busy_answers, 0) << "/healthz did not say the store is busy";
    auto join = api().call("POST", kSessions + "/" + s.id + "/join", s.patient_token);
    EXPECT_TRUE(is_error(join, 503, "store_busy")) << join.text();
    EXPECT_TRUE(api().proc().running());

    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(other);
    // The queued write lands once the lock is gone.
    bool written = false;
    for (int i = 0; i < 100 && !written; ++i) {
        std::this_thread::sleep_for(100ms);
        written = api().query_column("SELECT count(*) FROM video_consultation_participants WHERE id = '" + participant +
                                     "' AND left_at IS NOT NULL") == std::vector<std::string>{"1"};
    }
    EXPECT_TRUE(written) << "the patient's leaving was lost";
    expect_healthy("a locked store");
}

TEST_F(Hostile, SlowHeadersAreCutOffAtTheirDeadline) {
    std::vector<RawConn> slow;
    for (int i = 0; i < 50; ++i) {
        slow.emplace_back(port(), "127.0.0.20");
        ASSERT_TRUE(slow.back().ok());
        slow.back().send("GET /healthz HTTP/1.1\r\nX-Slow: ");
    }
    for (int tick = 0; tick < 4; ++tick) {
        std::this_thread::sleep_for(1s);
        for (auto& c : slow) c.send("a");
    }
    // header_timeout_seconds=2: every one is closed by now or very soon.
    int closed = 0;
    for (auto& c : slow) closed += c.closed_within(3s);
    EXPECT_EQ(closed, 50);
    expect_healthy("slow headers");
}

TEST_F(Hostile, UpgradesThatNeverSayHelloAreClosed) {
    std::vector<RawConn> quiet;
    for (int i = 0; i < 100; ++i) {
        quiet.emplace_back(port(), "127.0.3." + std::to_string(1 + i / 50));   // within each address's share
        ASSERT_TRUE(quiet.back().ok());
        quiet.back().send(kWsHandshake);
        const std::string answer = quiet.back().receive(5s, "\r\n\r\n");
        ASSERT_NE(answer.find("101"), std::string::npos) << answer;
    }
    expect_healthy("idle WebSocket upgrades");
    int closed = 0;
    // The hello deadline is 10 s; libsoup then waits a few seconds for a close answer
    // these clients never send.
    for (auto& c : quiet) closed += c.closed_within(25s);
    EXPECT_EQ(closed, 100);
}

TEST_F(Hostile, ABodyOverTheLimitIsRefusedFromItsLengthWithoutReadingIt) {
    const long before = rss_kb(api().proc().pid());
    for (int i = 0; i < 5; ++i) {
        RawConn c(port(), "127.0.0.22");
        ASSERT_TRUE(c.send("POST " + kSessions + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                           "Content-Length: 838860800\r\n\r\n"));
        c.send(std::string(256 * 1024, 'x'));   // a start on the 800 MiB
        const std::string r = c.receive(5s, "}");
        EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r;
        EXPECT_NE(r.find("body_too_large"), std::string::npos);
        EXPECT_TRUE(c.closed_within(3s));
    }
    {
        RawConn c(port(), "127.0.0.22");   // no length: chunks that never end
        ASSERT_TRUE(c.send("POST " + kSessions + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        const std::string chunk = "10000\r\n" + std::string(0x10000, 'y') + "\r\n";
        for (int i = 0; i < 64 && c.send(chunk); ++i) {}
        const std::string r = c.receive(5s, "}");
        EXPECT_EQ(r.rfind("HTTP/1.1 413", 0), 0u) << r.substr(0, 200);
    }
    const long after = rss_kb(api().proc().pid());
    EXPECT_LT(after - before, 32 * 1024) << "RSS grew by " << (after - before) << " KiB";
    expect_healthy("oversized bodies");
}

TEST_F(Hostile, AWebSocketMessageOfEndlessFragmentsIsCutOffAtTheLimit) {
    const long before = rss_kb(api().proc().pid());
    RawConn c(port(), "127.0.0.23");
    ASSERT_TRUE(c.send(kWsHandshake));
    ASSERT_NE(c.receive(5s, "\r\n\r\n").find("101"), std::string::npos);
    c.send(ws_frame(0x1, false, 100));
    std::size_t sent = 100;
    for (int i = 0; i < 2000; ++i) {
        if (!c.send(ws_frame(0x0, false, 16 * 1024))) break;
        sent += 16 * 1024;
    }
    EXPECT_TRUE(c.closed_within(5s)) << "still open after " << sent << " bytes of one message";
    const long after = rss_kb(api().proc().pid());
    EXPECT_LT(after - before, 16 * 1024) << "RSS grew by " << (after - before) << " KiB";
    expect_healthy("a fragmented message");
}

namespace {
// Our own offer with every a=setup: line set to `setup` and each section's port set to
// `audio_port` / `video_port`: near enough a browser's answer.
std::string answer_of(std::string offer, const std::string& setup = "active", int audio_port = 9, int video_port = 9) {
    for (std::size_t at = 0; (at = offer.find("a=setup:", at)) != std::string::npos; ++at) {
        const auto end = offer.find("\r\n", at);
        offer.replace(at, end - at, "a=setup:" + setup);
    }
    for (const auto& [media, port] : {std::pair<std::string, int>{"audio", audio_port}, {"video", video_port}}) {
        const auto at = offer.find("m=" + media + " ");
        if (at == std::string::npos) continue;
        const auto num = at + 3 + media.size();
        offer.replace(num, offer.find(' ', num) - num, std::to_string(port));
    }
    return offer;
}
}  // namespace

TEST_F(Hostile, MalformedAnswersCloseOnlyThatSocketAndALateOneIsAnError) {
    Session s = api().scheduled_session();
    Session bystander_session = api().scheduled_session();
    auto bystander = patient(bystander_session, "other");
    ASSERT_TRUE(bystander->wait_for("waiting"));
    auto doc = open();
    doc->send({{"type", "hello"}, {"token", api().doctor_b}, {"session", s.id}});
    ASSERT_TRUE(doc->wait_for("welcome"));
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);

    const std::vector<std::pair<std::string, std::function<std::string(const std::string&)>>> hostile = {
        {"not SDP", [](const std::string&) { return std::string("v=0\r\nm=\r\n"); }},
        {"one section too few", [&](const std::string& o) {
             std::string a = answer_of(o);
             return a.substr(0, a.find("m=video"));
         }},
        {"setup actpass in an answer", [&](const std::string& o) { return answer_of(o, "actpass"); }},
    };
    for (const auto& [what, make] : hostile) {
        auto offer = pat->wait_for("offer", 20s);
        ASSERT_TRUE(offer) << "no offer before: " << what;
        pat->send({{"type", "answer"}, {"sdp", make((*offer)["sdp"].get<std::string>())}});
        EXPECT_EQ(pat->wait_closed(), 4400) << what;
        auto notice = doc->wait_for("media_notice");
        ASSERT_TRUE(notice) << "the doctor is told: " << what;
        EXPECT_EQ((*notice)["kind"], "answer_refused") << what;
        expect_healthy(what.c_str());
        bystander->send({{"type", "ping"}});
        EXPECT_TRUE(bystander->wait_for("pong")) << what;
        // The same device comes back and is let in again for the next case.
        pat = patient(s);
        ASSERT_TRUE(pat->wait_for("waiting"));
        ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    }
    // A good answer, then the same answer again: the second is an error, the call goes on.
    auto offer = pat->wait_for("offer", 20s);
    ASSERT_TRUE(offer);
    const std::string good = answer_of((*offer)["sdp"].get<std::string>());
    pat->send({{"type", "answer"}, {"sdp", good}});
    pat->send({{"type", "answer"}, {"sdp", good}});
    auto error = pat->wait_for("error");
    ASSERT_TRUE(error);
    EXPECT_EQ((*error)["code"], "answer_unexpected");
    pat->send({{"type", "ping"}});
    EXPECT_TRUE(pat->wait_for("pong")) << "a late answer does not end the socket";
    expect_healthy("a duplicated answer");
}

TEST_F(Hostile, AnswersThatTurnSectionsDownAreOutcomesThatBothScreensAreToldAbout) {
    struct Case {
        const char* what;
        int audio_port, video_port;
        const char* kind;
        int close_code;   // 0: the socket stays open
    };
    for (const Case& c : {Case{"video turned down, ICE and DTLS kept in it", 9, 0, "video_refused", 0},
                          Case{"everything turned down", 0, 0, "unsupported", 4415}}) {
        auto [doc, pat] = admitted_call(api().scheduled_session());
        auto offer = pat->wait_for("offer", 20s);
        ASSERT_TRUE(offer) << c.what;
        pat->send({{"type", "answer"},
                   {"sdp", answer_of((*offer)["sdp"].get<std::string>(), "active", c.audio_port, c.video_port)}});
        auto to_patient = pat->wait_for("media_notice");
        ASSERT_TRUE(to_patient) << c.what;
        EXPECT_EQ((*to_patient)["kind"], c.kind) << c.what;
        EXPECT_FALSE((*to_patient)["message"].get<std::string>().empty()) << c.what;
        auto to_doctor = doc->wait_for("media_notice");
        ASSERT_TRUE(to_doctor) << c.what;
        EXPECT_EQ((*to_doctor)["kind"], c.kind) << c.what;
        if (c.close_code) {
            EXPECT_EQ(pat->wait_closed(), c.close_code) << c.what;
        } else {
            pat->send({{"type", "ping"}});
            EXPECT_TRUE(pat->wait_for("pong")) << c.what;
            EXPECT_FALSE(pat->wait_for("offer", 2s)) << "no new offer: " << c.what;
        }
        expect_healthy(c.what);
    }
}

TEST_F(Hostile, CameraOffAndOnWhileThePatientsMediaConnectsNeverBlocksTheLoop) {
    auto [doc, pat] = admitted_call(api().scheduled_session());
    ASSERT_TRUE(pat->wait_for("offer", 20s));   // never answered: the media stays "connecting"
    double worst = 0;
    for (int i = 0; i < 30; ++i) {
        doc->send({{"type", "media"}, {"audio", true}, {"video", i % 2 == 1}});
        if (i % 5 == 0) {
            auto [status, ms] = timed_healthz(port(), "127.0.0.250", 5s);
            EXPECT_EQ(status, 200);
            worst = std::max(worst, ms);
        }
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_LT(worst, 1000);
    expect_healthy("camera toggles");
}

TEST_F(Hostile, SmallerCasesGetTheirOwnClearErrors) {
    // A query value with an encoded NUL is refused, not cut.
    EXPECT_TRUE(is_error(api().call("GET", kSessions + "?status=scheduled%00x", api().admin), 400, "invalid_query"));
    // A cancelled session's patient gets no TURN credentials.
    Session s = api().scheduled_session();
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/cancel", api().doctor_b).status, 200);
    EXPECT_EQ(api().call("GET", "/api/ice-servers", s.patient_token).status, 401);
    expect_healthy("the smaller cases");
}

// ---- descriptors: a process limit of 1024, as systemd's default soft limit

const std::vector<std::string> kPrlimit = {"/usr/bin/prlimit", "--nofile=1024:1024", "--"};

TEST(HostileConnections, ElevenHundredConnectionsUnderA1024LimitLeaveRoomForHealthz) {
    raise_own_file_limit(4096);
    std::vector<std::string> args = kFastRateLimit;
    args.insert(args.end(), {"--set", "http.header_timeout_seconds=30"});
    ApiDaemon d(args, kPrlimit);
    d.start();
    std::vector<RawConn> flood;
    int refused = 0;
    for (int i = 0; i < 1100; ++i) {
        flood.emplace_back(d.proc().port(), "127.0.1." + std::to_string(1 + i / 55));
        if (!flood.back().ok()) ++refused;
    }
    // Held at the cap (the file limit less the reserve), refused or given up beyond it;
    // a newcomer is still let in.
    std::vector<double> times;
    for (int i = 0; i < 20; ++i) {
        auto [status, ms] = timed_healthz(d.proc().port(), "127.0.0.251", 5s);
        EXPECT_EQ(status, 200) << "request " << i;
        times.push_back(ms);
    }
    std::sort(times.begin(), times.end());
    EXPECT_LT(times.back(), 2000);
    auto metrics = d.call("GET", "/metrics", "");
    EXPECT_NE(metrics.text().find("consult_http_connections_limit 768"), std::string::npos);
    EXPECT_TRUE(d.proc().running());
    std::printf("[ measure ] 1100 connections under a 1024 limit: /healthz worst %.0f ms, median %.0f ms\n",
                times.back(), times[times.size() / 2]);
}

TEST(HostileConnections, AListenerThatRanOutOfDescriptorsListensAgain) {
    raise_own_file_limit(4096);
    std::vector<std::string> args = kFastRateLimit;
    // No cap below the limit and no share per address: the listener does run out.
    args.insert(args.end(), {"--set", "http.max_connections=5000", "--set", "http.max_connections_per_address=5000",
                             "--set", "http.reserved_fds=0", "--set", "http.header_timeout_seconds=3"});
    ApiDaemon d(args, kPrlimit);
    d.start();
    // After start-up (READY: the call's plugins and the libraries they bring are loaded).
    // With no reserve, a library that first opens a file during the flood fails (libgcrypt
    // aborts the process); the reserve, off here, is what keeps descriptors for that.
    ASSERT_TRUE(d.proc().wait_for_notify("READY=1", 60).has_value()) << d.proc().stderr_text();
    {
        std::vector<RawConn> flood;
        for (int i = 0; i < 1100; ++i) flood.emplace_back(d.proc().port());
        std::this_thread::sleep_for(2s);
    }   // closed
    bool back = false;
    for (int i = 0; i < 100 && !back; ++i) {
        back = timed_healthz(d.proc().port(), "127.0.0.252", 2s).first == 200;
        if (!back) std::this_thread::sleep_for(200ms);
    }
    EXPECT_TRUE(back) << "the listener never accepted again";
    EXPECT_TRUE(d.proc().running());
}

// ---- a full disk

TEST(HostileDisk, AFullDiskIsReportedByHealthzAndTheDaemonKeepsAnswering) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small file system";
    TempDir dir("consult-full");
    const fs::path state = dir / "state";
    fs::create_directories(state);
    SmallDisk disk(state, "40m");
    ASSERT_EQ(disk.error, "");
    ConsultdOptions o;
    o.state_dir = state;
    o.args = {"--demo"};
    ConsultdProcess p(o);
    ASSERT_TRUE(p.start()) << p.start_error();
    ASSERT_TRUE(p.wait_for_healthz(30)) << p.stderr_text();
    {
        std::ofstream filler(state / "filler", std::ios::binary);
        const std::string block(1 << 20, '\0');
        for (int i = 0; i < 40 && filler.write(block.data(), block.size()); ++i) {}
    }
    int status = 0;
    for (int i = 0; i < 30 && status != 503; ++i) {
        std::this_thread::sleep_for(100ms);
        status = int(p.http("GET", "/healthz").status);
    }
    EXPECT_EQ(status, 503);
    EXPECT_NE(p.http("GET", "/healthz").body.find("\"db\":\"full\""), std::string::npos);
    fs::remove(state / "filler");
    for (int i = 0; i < 30 && status != 200; ++i) {
        std::this_thread::sleep_for(100ms);
        status = int(p.http("GET", "/healthz").status);
    }
    EXPECT_EQ(status, 200);
    EXPECT_TRUE(p.running());
}

}  // namespace
}  // namespace consult::test::api
