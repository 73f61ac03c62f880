// The signalling WebSocket (/ws) against a real consultd --demo: the waiting room,
// admission, chat, media state, rejoin, and the bad-input table of docs/signalling.md.
// Media runs at a small size here; the browser tests exercise it for real.
#include "shared_daemon.hpp"
#include "ws_client.hpp"

namespace consult::test::api {
namespace {

const std::vector<std::string> kArgs = {"--set", "http.rate_limit_per_minute=1000000", "--set",
                                        "http.rate_limit_burst=100000", "--set", "media.max_width=320",
                                        "--set", "media.max_height=240", "--set", "media.max_fps=15",
                                        "--set", "sessions.rejoin_seconds=3",
                                        "--set", "media.stun_servers=stun:127.0.0.1:3478, stun:127.0.0.2:3478",
                                        "--set", "media.content_camera=test"};

class SignallingTest : public SharedDaemonSuite<kArgs> {
protected:
    // A patient socket that said hello from `device` and got welcome (and waiting or admitted).
    std::unique_ptr<WsClient> patient(const Session& s, json* welcome = nullptr, const std::string& device = "phone-1") {
        auto c = open();
        c->send({{"type", "hello"}, {"token", s.patient_token}, {"device", device}});
        auto w = c->wait_for("welcome");
        if (!w) setup_failed("no welcome for the patient; closed " + std::to_string(c->wait_closed(1s)) + " " + c->close_reason());
        if (welcome) *welcome = *w;
        return c;
    }

    std::unique_ptr<WsClient> doctor(const Session& s, const std::string& token = "") {
        auto c = open();
        c->send({{"type", "hello"}, {"token", token.empty() ? api().doctor_b : token}, {"session", s.id}});
        if (!c->wait_for("welcome")) setup_failed("no welcome for the doctor");
        return c;
    }

    // A refused first message or token: the close code the server chose.
    int refused(const json& hello) {
        auto c = open();
        c->send(hello);
        return c->wait_closed();
    }

};

TEST_F(SignallingTest, APatientWaitsAndTheDoctorSeesThemWithTheirPrecheck) {
    Session s = api().scheduled_session();
    auto doc = doctor(s);
    json welcome;
    auto pat = patient(s, &welcome);
    EXPECT_EQ(welcome["role"], "patient");
    EXPECT_EQ(welcome["session"]["id"], s.id);
    EXPECT_TRUE(welcome["session"]["clinic"].is_string());
    EXPECT_TRUE(welcome["session"]["doctor"].is_string());
    // The configured STUN servers, as a browser's RTCPeerConnection takes them.
    EXPECT_EQ(welcome["ice_servers"], json::parse(R"([{"urls":"stun:127.0.0.1:3478"},{"urls":"stun:127.0.0.2:3478"}])"));
    EXPECT_EQ(welcome["rejoin"], false);
    auto waiting = pat->wait_for("waiting");
    ASSERT_TRUE(waiting);
    EXPECT_TRUE((*waiting)["since"].is_string());
    EXPECT_EQ(api().session_status(s.id), "waiting");

    // The doctor's screen: who, since when, and the pre-call check once sent.
    pat->send({{"type", "precheck"}, {"camera", "ok"}, {"microphone", "ok"}, {"speaker", "skipped"}, {"browser", "test"}});
    std::optional<json> room;
    for (int i = 0; i < 5; ++i) {
        room = doc->wait_for("waiting_room");
        ASSERT_TRUE(room);
        if (!(*room)["patients"].empty() && (*room)["patients"][0]["precheck"].is_object()) break;
    }
    ASSERT_EQ((*room)["patients"].size(), 1u) << room->dump();
    const json& p = (*room)["patients"][0];
    EXPECT_TRUE(p["name"].is_string());
    EXPECT_EQ(p["connected"], true);
    EXPECT_EQ(p["precheck"]["camera"], "ok");
    EXPECT_EQ(p["precheck"]["speaker"], "skipped");
    EXPECT_EQ(api().query_column("SELECT json_extract(precheck, '$.microphone') FROM video_consultation_participants "
                                 "WHERE session_id = '" + s.id + "' AND user_type = 'patient'"),
              std::vector<std::string>{"ok"});
    // The patient never learns anything about other patients; a doctor without a
    // session (the kiosk's lobby) hears about this waiting room too.
    auto lobby = open();
    lobby->send({{"type", "hello"}, {"token", api().doctor_b}});
    ASSERT_TRUE(lobby->wait_for("welcome"));
    auto lobby_room = lobby->wait_for("waiting_room");
    ASSERT_TRUE(lobby_room);
    EXPECT_EQ((*lobby_room)["session"], s.id);
}

TEST_F(SignallingTest, AdmissionOverRestSendsAdmittedAndAnOfferThenChatGoesBothWays) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    auto doc = doctor(s);
    // Chat before admission is refused gently: the socket stays open.
    pat->send({{"type", "chat"}, {"text", "hello?"}});
    auto refused_chat = pat->wait_for("error");
    ASSERT_TRUE(refused_chat);
    EXPECT_EQ((*refused_chat)["code"], "not_admitted");

    auto lobby = open();   // the kiosk's Today screen
    lobby->send({{"type", "hello"}, {"token", api().doctor_b}});
    ASSERT_TRUE(lobby->wait_for("welcome"));

    auto r = api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b);
    ASSERT_EQ(r.status, 200) << r.text();
    ASSERT_TRUE(pat->wait_for("admitted"));
    auto offer = pat->wait_for("offer", 20s);
    ASSERT_TRUE(offer) << "no offer";
    EXPECT_NE((*offer)["sdp"].get<std::string>().find("m=video"), std::string::npos);
    EXPECT_NE((*offer)["sdp"].get<std::string>().find("m=audio"), std::string::npos);
    EXPECT_EQ(api().session_status(s.id), "in-progress");

    pat->send({{"type", "chat"}, {"text", "Good morning, doctor"}});
    auto at_doc = doc->wait_for("chat");
    ASSERT_TRUE(at_doc);
    EXPECT_EQ((*at_doc)["from"], "patient");
    EXPECT_EQ((*at_doc)["text"], "Good morning, doctor");
    doc->send({{"type", "chat"}, {"text", "Morning! Können Sie mich hören? ✓"}});
    auto at_pat = pat->wait_for("chat");
    while (at_pat && (*at_pat)["from"] != "doctor") at_pat = pat->wait_for("chat");
    ASSERT_TRUE(at_pat);
    EXPECT_EQ((*at_pat)["text"], "Morning! Können Sie mich hören? ✓");
    // Kept with the session, in order.
    EXPECT_EQ(api().query_column("SELECT sender_type FROM chat_messages WHERE session_id = '" + s.id + "' ORDER BY sent_at, rowid"),
              (std::vector<std::string>{"patient", "doctor"}));
    // Too long: refused, socket open.
    pat->send({{"type", "chat"}, {"text", std::string(2001, 'x')}});
    auto too_long = pat->wait_for("error");
    ASSERT_TRUE(too_long);
    EXPECT_EQ((*too_long)["code"], "invalid_chat");
    EXPECT_FALSE(pat->is_closed());

    // Mute and camera-off reach the other side.
    pat->send({{"type", "media"}, {"audio", false}, {"video", true}});
    auto pm = doc->wait_for("peer_media");
    ASSERT_TRUE(pm);
    EXPECT_EQ((*pm)["from"], "patient");
    EXPECT_EQ((*pm)["audio"], false);
    doc->send({{"type", "media"}, {"audio", true}, {"video", false}});
    auto dm = pat->wait_for("peer_media");
    ASSERT_TRUE(dm);
    EXPECT_EQ((*dm)["from"], "doctor");
    EXPECT_EQ((*dm)["video"], false);

    // The doctor shares the second camera: every screen is told; the offer names its streams.
    EXPECT_EQ((*offer)["streams"], json::parse(R"(["room-audio","room"])"));
    doc->send({{"type", "share"}, {"on", true}});
    auto content = pat->wait_for("content");
    ASSERT_TRUE(content);
    EXPECT_EQ((*content)["on"], true);
    ASSERT_TRUE(doc->wait_for("content"));
    doc->send({{"type", "share"}, {"on", false}});
    content = pat->wait_for("content");
    ASSERT_TRUE(content);
    EXPECT_EQ((*content)["on"], false);

    // End over the socket: the patient is told and closed with 4410.
    doc->send({{"type", "end"}});
    auto ended = pat->wait_for("ended");
    ASSERT_TRUE(ended);
    EXPECT_EQ(pat->wait_closed(), 4410);
    EXPECT_EQ(api().session_status(s.id), "completed");
    EXPECT_EQ(api().query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                                 "' AND left_at IS NULL"),
              std::vector<std::string>{"0"});
    // Today hears the room is over: nobody is left waiting in it.
    std::optional<json> last;
    while (auto m = lobby->wait_for("waiting_room", 5s)) {
        if ((*m)["session"] != s.id) continue;
        last = m;
        if ((*m)["status"] == "completed") break;
    }
    ASSERT_TRUE(last) << "the lobby heard nothing of the ended room";
    EXPECT_EQ((*last)["status"], "completed") << last->dump();
    EXPECT_TRUE((*last)["patients"].empty()) << last->dump();
}

// The room's camera and microphone must not go on for a patient once no doctor is
// signed in: signing out ends the call, and the patient is told why.
TEST_F(SignallingTest, SigningOutDuringACallEndsItAndThePatientIsTold) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    const std::string kiosk = api().token("doctor", kDoctorB);
    auto doc = doctor(s, kiosk);
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", kiosk).status, 200);
    ASSERT_TRUE(pat->wait_for("admitted"));

    auto out = api().call("POST", "/api/kiosk/sign-out", kiosk, {{"reason", "tapped"}});
    ASSERT_EQ(out.status, 204) << out.text();
    auto ended = pat->wait_for("ended");
    ASSERT_TRUE(ended);
    EXPECT_EQ((*ended)["reason"], "the doctor signed out");
    EXPECT_EQ(pat->wait_closed(), 4410);
    EXPECT_EQ(doc->wait_closed(), 4401);
    EXPECT_EQ(api().session_status(s.id), "completed");

    // Signing out with no call running ends nothing.
    Session other = api().scheduled_session();
    auto waiting = patient(other);
    ASSERT_TRUE(waiting->wait_for("waiting"));
    const std::string lobby_token = api().token("doctor", kDoctorB);
    auto lobby = doctor(other, lobby_token);
    ASSERT_EQ(api().call("POST", "/api/kiosk/sign-out", lobby_token).status, 204);
    EXPECT_EQ(lobby->wait_closed(), 4401);
    EXPECT_FALSE(waiting->is_closed());
    EXPECT_EQ(api().session_status(other.id), "waiting");
}

TEST_F(SignallingTest, APatientWhoReloadsComesBackWithoutWaitingAndLeaveClosesTheirRow) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("offer", 20s));
    pat->close();   // a reload

    json welcome;
    auto again = patient(s, &welcome);
    EXPECT_EQ(welcome["rejoin"], true);
    ASSERT_TRUE(again->wait_for("admitted"));
    ASSERT_TRUE(again->wait_for("offer", 20s));
    for (const auto& m : again->skipped) EXPECT_NE(m["type"], "waiting");
    // Still one patient row: the rejoin reused it.
    EXPECT_EQ(api().query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                                 "' AND user_type = 'patient'"),
              std::vector<std::string>{"1"});

    // The same device opening the link again (another tab) takes over; the older screen is told why.
    auto third = patient(s);
    EXPECT_EQ(again->wait_closed(), 4409);
    ASSERT_TRUE(third->wait_for("admitted"));
    third->send({{"type", "leave"}});
    EXPECT_EQ(third->wait_closed(), 1000);
    EXPECT_EQ(api().query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                                 "' AND user_type = 'patient' AND left_at IS NOT NULL"),
              std::vector<std::string>{"1"});
}

// The waiting room holds: after leave, after the rejoin window, and from a second
// device, the link leads to the waiting room again and the doctor sees why.
// The doctor admits while the patient's page is away (a phone's lock screen, a reload
// in flight): the page that opens the link next goes straight into the call, once.
TEST_F(SignallingTest, AnAdmissionWhileThePageIsAwayLetsItsNextVisitIn) {
    Session s = api().scheduled_session();
    auto away = patient(s);
    ASSERT_TRUE(away->wait_for("waiting"));
    away->close();
    const std::string left = "SELECT left_at FROM video_consultation_participants WHERE session_id = '" + s.id +
                             "' AND user_type = 'patient' AND left_at IS NOT NULL";
    for (auto until = std::chrono::steady_clock::now() + 10s; api().query_column(left).empty();) {
        ASSERT_LT(std::chrono::steady_clock::now(), until) << "the appliance never saw the page go";
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);

    json welcome;
    auto back = patient(s, &welcome, "phone-2");
    EXPECT_EQ(welcome["rejoin"], false);
    ASSERT_TRUE(back->wait_for("admitted"));
    ASSERT_TRUE(back->wait_for("offer", 20s));
    for (const auto& m : back->skipped) EXPECT_NE(m["type"], "waiting");
    // One admission lets one screen in: another device waits for the doctor.
    auto other = patient(s, nullptr, "laptop-1");
    auto waiting = other->wait_for("waiting");
    ASSERT_TRUE(waiting);
    EXPECT_EQ((*waiting)["reason"], "another_device");
}

TEST_F(SignallingTest, AfterLeavingTheSameLinkWaitsForTheDoctorAgain) {
    Session s = api().scheduled_session();
    auto doc = doctor(s);
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("offer", 20s));
    pat->send({{"type", "leave"}});
    EXPECT_EQ(pat->wait_closed(), 1000);

    auto back = patient(s);
    auto waiting = back->wait_for("waiting");
    ASSERT_TRUE(waiting) << "the link walked straight back into the call";
    EXPECT_EQ((*waiting)["reason"], "after_leaving");
    for (const auto& m : back->skipped) EXPECT_NE(m["type"], "admitted");
    std::optional<json> room;
    for (int i = 0; i < 10; ++i) {
        room = doc->wait_for("waiting_room");
        ASSERT_TRUE(room);
        if (!(*room)["patients"].empty() && (*room)["patients"][0]["reason"] == "after_leaving") break;
    }
    ASSERT_EQ((*room)["patients"].size(), 1u) << room->dump();
    EXPECT_EQ((*room)["patients"][0]["in_call"], false);
    EXPECT_TRUE((*room)["patients"][0]["reason_text"].is_string());
    // Admitting again over REST lets them back in; the session stays in progress.
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(back->wait_for("admitted"));
    ASSERT_TRUE(back->wait_for("offer", 20s));
    EXPECT_TRUE(is_error(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b), 409, "nobody_waiting"));
    EXPECT_EQ(api().session_status(s.id), "in-progress");
}

TEST_F(SignallingTest, ASecondDeviceWaitsWhileTheFirstIsInTheCallAndTheDoctorDecides) {
    Session s = api().scheduled_session();
    auto doc = doctor(s);
    auto phone = patient(s, nullptr, "phone-1");
    ASSERT_TRUE(phone->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(phone->wait_for("offer", 20s));

    auto laptop = patient(s, nullptr, "laptop-1");
    auto waiting = laptop->wait_for("waiting");
    ASSERT_TRUE(waiting) << "a second device took the call over";
    EXPECT_EQ((*waiting)["reason"], "another_device");
    EXPECT_FALSE(phone->is_closed()) << "the first device stays in the call";
    // The doctor turns the second device away: only it is closed; the call goes on.
    doc->send({{"type", "decline"}});
    EXPECT_EQ(laptop->wait_closed(), 4404);
    EXPECT_FALSE(phone->is_closed());
    EXPECT_EQ(api().session_status(s.id), "in-progress");

    // A third device waits too; the doctor's newest list names its screen.
    auto tablet = patient(s, nullptr, "tablet-1");
    ASSERT_TRUE(tablet->wait_for("waiting"));
    std::string screen;
    for (int i = 0; i < 20 && screen.empty(); ++i) {
        std::optional<json> newest;
        while (auto m = doc->wait_for("waiting_room", 300ms)) newest = m;
        if (newest)
            for (const auto& p : (*newest)["patients"])
                if (p["in_call"] == false && p["connected"] == true) screen = p["screen"];
    }
    ASSERT_FALSE(screen.empty());
    // The test's client reads only while it is asked to: let the phone catch up first.
    EXPECT_FALSE(phone->is_closed());
    doc->send({{"type", "admit"}, {"screen", screen}});
    ASSERT_TRUE(tablet->wait_for("admitted")) << "admitting " << screen;
    EXPECT_EQ(phone->wait_closed(), 4409);
    EXPECT_EQ(phone->close_reason(), "the call moved to another device");
}

TEST_F(SignallingTest, AfterTheRejoinWindowTheSameDeviceWaitsAgain) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("offer", 20s));
    pat->close();   // dropped; rejoin_seconds=3 in this suite
    bool expired = false;   // the window's end closes the patient's row
    for (int i = 0; i < 100 && !expired; ++i) {
        std::this_thread::sleep_for(100ms);
        expired = api().query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                                     "' AND user_type = 'patient' AND left_at IS NOT NULL") == std::vector<std::string>{"1"};
    }
    ASSERT_TRUE(expired);
    auto late = patient(s);
    auto waiting = late->wait_for("waiting");
    ASSERT_TRUE(waiting);
    EXPECT_EQ((*waiting)["reason"], "after_rejoin_window");
}

TEST_F(SignallingTest, ADroppedPatientIsRecordedAsLeftAfterTheRejoinWindow) {
    Session s = api().scheduled_session();
    auto doc = doctor(s);
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    pat->close();
    // rejoin_seconds=3 in this suite.
    bool left = false;
    for (int i = 0; i < 100 && !left; ++i) {
        std::this_thread::sleep_for(100ms);
        left = api().query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                                  "' AND user_type = 'patient' AND left_at IS NOT NULL") == std::vector<std::string>{"1"};
    }
    EXPECT_TRUE(left);
    auto room = doc->wait_for("waiting_room");
    ASSERT_TRUE(room);
}

TEST_F(SignallingTest, DeclineClosesThePatientsSocketWithTheReason) {
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    auto doc = doctor(s);
    doc->send({{"type", "decline"}, {"reason", "please call the front desk"}});
    auto ended = pat->wait_for("ended");
    ASSERT_TRUE(ended);
    EXPECT_EQ((*ended)["reason"], "please call the front desk");
    EXPECT_EQ(pat->wait_closed(), 4410);
    EXPECT_EQ(pat->close_reason(), "please call the front desk");
    EXPECT_EQ(api().session_status(s.id), "cancelled");
    // The link no longer opens the waiting room.
    EXPECT_EQ(refused({{"type", "hello"}, {"token", s.patient_token}}), 4410);
}

TEST_F(SignallingTest, BadInputClosesOnlyThatSocketWithTheDocumentedCode) {
    Session s = api().scheduled_session();
    Session other = api().scheduled_session();
    auto bystander = patient(other);
    ASSERT_TRUE(bystander->wait_for("waiting"));

    EXPECT_EQ(refused(json("not an object")), 4400);
    {
        auto c = open();
        c->send_text("{not json");
        EXPECT_EQ(c->wait_closed(), 4400);
    }
    EXPECT_EQ(refused({{"type", "teleport"}}), 4400);
    EXPECT_EQ(refused({{"type", "chat"}, {"text", "hi"}}), 4401);                      // not hello first
    EXPECT_EQ(refused({{"type", "hello"}}), 4400);                                      // no token
    EXPECT_EQ(refused({{"type", "hello"}, {"token", 42}}), 4400);                       // wrong type
    EXPECT_EQ(refused({{"type", "hello"}, {"token", "not.a.token"}}), 4401);
    EXPECT_EQ(refused({{"type", "hello"}, {"token", s.patient_token + "x"}}), 4401);   // bad signature
    {
        auto key = api().verifier();
        auto old = key.issue(s.patient_id, tokens::Role::Patient, s.id, 600, tokens::unix_now() - 7200);
        ASSERT_TRUE(old);
        EXPECT_EQ(refused({{"type", "hello"}, {"token", old->token}}), 4401);           // expired
        // Another patient's token for this session: not the booked patient.
        auto stranger = key.issue(other.patient_id == s.patient_id ? kUnknownId : other.patient_id,
                                  tokens::Role::Patient, s.id, 600, tokens::unix_now());
        ASSERT_TRUE(stranger);
        EXPECT_EQ(refused({{"type", "hello"}, {"token", stranger->token}}), 4403);
    }
    EXPECT_EQ(refused({{"type", "hello"}, {"token", api().admin}}), 4403);
    EXPECT_EQ(refused({{"type", "hello"}, {"token", api().doctor_a}, {"session", s.id}}), 4403);   // not their patient
    {
        auto c = patient(s);
        c->send({{"type", "answer"}, {"sdp", "v=0"}});                                 // before any offer
        EXPECT_EQ(c->wait_closed(), 4403);
    }
    {
        auto c = patient(s);
        c->send({{"type", "admit"}});                                                  // a doctor's message
        EXPECT_EQ(c->wait_closed(), 4403);
    }
    {
        auto c = patient(s);
        c->send({{"type", "hello"}, {"token", s.patient_token}});                      // hello twice
        EXPECT_EQ(c->wait_closed(), 4400);
    }
    {
        auto c = patient(s);
        c->send({{"type", "chat"}, {"text", std::string(70 * 1024, 'x')}});            // oversize frame
        EXPECT_EQ(c->wait_closed(), 1009) << c->close_reason();
    }
    {
        auto c = patient(s);
        for (int i = 0; i < 200; ++i) c->send({{"type", "ping"}});                     // a flood
        EXPECT_EQ(c->wait_closed(), 4429);
    }
    // The daemon and the other session carried on.
    EXPECT_TRUE(api().healthy());
    bystander->send({{"type", "ping"}});
    EXPECT_TRUE(bystander->wait_for("pong"));
    EXPECT_FALSE(bystander->is_closed());
}

// A stop (update, reboot) during a call: consultd exits cleanly, every screen is told
// with 1001, and the participants are recorded as having left.
TEST(SignallingShutdown, StoppingDuringACallClosesEveryScreenAndRecordsWhoLeft) {
    ApiDaemon d(kArgs);
    d.start();
    d.wait_for_media();
    Session s = d.scheduled_session();
    auto pat = WsClient::connect(d.proc().port());
    ASSERT_TRUE(pat);
    pat->send({{"type", "hello"}, {"token", s.patient_token}});
    ASSERT_TRUE(pat->wait_for("waiting"));
    auto doc = WsClient::connect(d.proc().port());
    ASSERT_TRUE(doc);
    doc->send({{"type", "hello"}, {"token", d.doctor_b}, {"session", s.id}});
    ASSERT_TRUE(doc->wait_for("welcome"));
    ASSERT_EQ(d.call("POST", kSessions + "/" + s.id + "/admit", d.doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("offer", 20s));

    auto exit = d.proc().terminate(15, 10s);
    EXPECT_TRUE(exit.exited && exit.code == 0) << exit.describe();
    EXPECT_EQ(pat->wait_closed(), 1001);
    EXPECT_EQ(doc->wait_closed(), 1001);
    EXPECT_EQ(d.query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id +
                             "' AND left_at IS NULL"),
              std::vector<std::string>{"0"});
    EXPECT_EQ(d.query_column("SELECT count(*) FROM video_consultation_participants WHERE session_id = '" + s.id + "'"),
              std::vector<std::string>{"2"});
}

// The kiosk's Settings preview needs the camera: while a call has it, the preview is
// refused with 409 and the call goes on; once the call ends, the preview comes back.
TEST_F(SignallingTest, TheSettingsPreviewWaitsWhileACallHasTheCamera) {
    const std::string preview = "/api/system/camera/preview.jpg?which=camera";
    Session s = api().scheduled_session();
    auto pat = patient(s);
    ASSERT_TRUE(pat->wait_for("waiting"));
    auto r = api().call("POST", kSessions + "/" + s.id + "/admit", api().doctor_b);
    ASSERT_EQ(r.status, 200) << r.text();
    ASSERT_TRUE(pat->wait_for("offer", 20s)) << "no offer: the call did not start";

    EXPECT_TRUE(is_error(api().call("GET", preview, api().admin), 409, "camera_in_use"));
    EXPECT_FALSE(pat->is_closed()) << "asking for the preview must not disturb the call";
    EXPECT_EQ(api().session_status(s.id), "in-progress");

    ASSERT_EQ(api().call("POST", kSessions + "/" + s.id + "/end", api().doctor_b).status, 200);
    ASSERT_TRUE(pat->wait_for("ended"));
    Reply after;
    for (int i = 0; i < 50; ++i) {
        after = api().call("GET", preview, api().admin);
        if (after.status != 409) break;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(after.status, 200) << after.text();
}

TEST_F(SignallingTest, ASocketThatNeverSaysHelloIsClosed) {
    auto c = open();
    EXPECT_EQ(c->wait_closed(15s), 4401);
}

}  // namespace
}  // namespace consult::test::api
