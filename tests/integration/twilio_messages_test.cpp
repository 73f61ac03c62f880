// consultd against the Twilio and SMTP stand-ins: SMS invite, "ready", status
// callbacks (signature, duplicates, order), email fallback, retries, ICE servers.
#include "twilio_fixture.hpp"

namespace consult::test::twilio {
namespace {

using api::kSessions;

TEST_F(MessagingTest, InviteGoesBySmsWithTheLinkAndTheStatusCallback) {
    auto s = api_.scheduled_session();
    EXPECT_EQ(s.created["invite"]["channel"], "sms") << s.created.dump();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 1; }));
    const auto m = messages_to(phone_of(s.patient_id))[0];
    EXPECT_EQ(m["from"], kFrom);
    // Booked through the API: the confirmation carries the short link, which mints a token when opened.
    EXPECT_NE(m["body"].get<std::string>().find("/j/" + code_of(s.id)), std::string::npos) << m["body"];
    EXPECT_EQ(m["_status_callback"], "http://127.0.0.1:" + std::to_string(api_.proc().port()) +
                                         "/api/webhooks/twilio/message-status");
    ASSERT_TRUE(eventually([&] { return stored_status(m["sid"]) == "queued"; }));
    auto detail = api_.call("GET", kSessions + "/" + s.id, api_.admin);
    EXPECT_EQ(detail.body["invite"]["channel"], "sms");
    EXPECT_EQ(detail.body["messages"][0]["provider_sid"], m["sid"]);
    // The phone number and the token never reach the log.
    const std::string log = api_.proc().stderr_text();
    EXPECT_EQ(log.find(phone_of(s.patient_id)), std::string::npos);
    EXPECT_EQ(log.find(s.patient_token), std::string::npos);
    EXPECT_EQ(log.find(kAuthToken), std::string::npos);
}

TEST_F(MessagingTest, DoctorReadyIsSentOnce) {
    auto s = api_.scheduled_session();
    auto first = api_.call("POST", kSessions + "/" + s.id + "/notify-ready", s.doctor_token);
    auto again = api_.call("POST", kSessions + "/" + s.id + "/notify-ready", api_.doctor_b);
    ASSERT_EQ(first.status, 200) << first.text();
    EXPECT_EQ(first.body["ready"]["channel"], "sms");
    EXPECT_EQ(again.body["ready"]["already_sent"], true) << again.text();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 2; }));
    std::this_thread::sleep_for(300ms);
    const auto sent = messages_to(phone_of(s.patient_id));
    ASSERT_EQ(sent.size(), 2u);
    // Invite and "ready" go out side by side; either may reach Twilio first.
    const int ready = int(sent[0]["body"].get<std::string>().find("ready") != std::string::npos) +
                      int(sent[1]["body"].get<std::string>().find("ready") != std::string::npos);
    EXPECT_EQ(ready, 1);
    EXPECT_EQ(api_.call("POST", kSessions + "/" + s.id + "/notify-ready", api_.doctor_a).status, 403);
    EXPECT_EQ(api_.call("POST", kSessions + "/" + s.id + "/notify-ready", s.patient_token).status, 403);
}

TEST_F(MessagingTest, WebhookWantsAValidSignature) {
    auto s = api_.scheduled_session();
    const std::string sid = invite_sid(s.patient_id);
    ASSERT_FALSE(sid.empty());
    EXPECT_EQ(callback(sid, {"sent"}, {{"signature", "none"}}), json({400}));
    EXPECT_EQ(callback(sid, {"sent"}, {{"signature", "bad"}}), json({403}));
    EXPECT_EQ(stored_status(sid), "queued");
    EXPECT_EQ(callback(sid, {"sent"}), json({200}));
    EXPECT_EQ(stored_status(sid), "sent");
    // A query string is part of the signed URL, as received (still percent-encoded).
    auto with_query = callback(sid, {"delivered"}, {{"url", "http://127.0.0.1:" + std::to_string(api_.proc().port()) +
                                                                "/api/webhooks/twilio/message-status?site=caf%C3%A9&n=1"}});
    EXPECT_EQ(with_query, json({200}));
    EXPECT_EQ(stored_status(sid), "delivered");
    auto unsigned_post = api_.send("POST", "/api/webhooks/twilio/message-status",
                                   {"Content-Type: application/x-www-form-urlencoded"}, "MessageSid=" + sid + "&MessageStatus=failed");
    EXPECT_TRUE(api::is_error(api::to_reply(unsigned_post.raw), 400, "signature_missing"));
    auto forged = api_.send("POST", "/api/webhooks/twilio/message-status",
                            {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8="},
                            "MessageSid=" + sid + "&MessageStatus=failed");
    EXPECT_TRUE(api::is_error(forged, 403, "signature_invalid"));
}

TEST_F(MessagingTest, DuplicateAndOutOfOrderCallbacksNeverMoveAStatusBack) {
    auto s = api_.scheduled_session();
    const std::string sid = invite_sid(s.patient_id);
    ASSERT_FALSE(sid.empty());
    EXPECT_EQ(callback(sid, {"delivered", "sent", "queued"}, {{"repeat", 2}}), json({200, 200, 200, 200, 200, 200}));
    EXPECT_EQ(stored_status(sid), "delivered");
    EXPECT_EQ(callback(sid, {"read"}, {{"json", true}}), json({200}));   // a JSON body, signed through bodySHA256
    EXPECT_EQ(stored_status(sid), "read");
    EXPECT_TRUE(emails().empty());
}

TEST_F(MessagingTest, UndeliveredSmsFallsBackToEmail) {
    auto appt = api_.book();
    set_email(appt["patient_id"], "patient.one@example.org");
    auto s = api_.create_session(appt);
    const std::string sid = invite_sid(s.patient_id);
    ASSERT_FALSE(sid.empty());
    EXPECT_EQ(callback(sid, {"sent", "undelivered"}, {{"error_code", 30003}}), json({200, 200}));
    EXPECT_EQ(callback(sid, {"undelivered"}, {{"error_code", 30003}}), json({200}));   // Twilio retried it
    ASSERT_TRUE(eventually([&] { return emails().size() == 1; })) << api_.proc().stderr_text();
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(emails().size(), 1u);
    const std::string mail = emails()[0];
    EXPECT_NE(mail.find("To: patient.one@example.org\r\n"), std::string::npos);
    EXPECT_NE(mail.find("From: " + kClinicEmail + "\r\n"), std::string::npos);
    EXPECT_NE(mail.find("/j/" + code_of(s.id)), std::string::npos) << mail;
    auto detail = api_.call("GET", kSessions + "/" + s.id, api_.admin);
    EXPECT_EQ(detail.body["invite"]["channel"], "email") << detail.text();
    EXPECT_EQ(detail.body["invite"]["sms_error"]["code"], 30003);
    EXPECT_EQ(detail.body["invite"]["notice"], "SMS failed: number unreachable — sent by email instead");
    EXPECT_EQ(api_.proc().stderr_text().find("patient.one@example.org"), std::string::npos);
}

TEST_F(MessagingTest, OptedOutPatientGetsEmailInstead) {
    const std::string patient = api_.next_patient();
    set_email(patient, "patient.two@example.org");
    twilio_.control("opt_out", {{"number", phone_of(patient)}});
    auto s = api_.create_session(api_.book(patient));
    ASSERT_TRUE(eventually([&] { return emails().size() == 1; })) << api_.proc().stderr_text();
    EXPECT_TRUE(messages_to(phone_of(s.patient_id)).empty());
    EXPECT_EQ(api_.query_column("SELECT status || ' ' || error_code FROM outbound_messages WHERE channel = 'sms'"),
              std::vector<std::string>{"rejected 21610"});
    EXPECT_EQ(api_.query_column("SELECT count(*) FROM patient_sms_opt_outs"), std::vector<std::string>{"1"});
    // From now on, straight to email.
    api_.call("POST", kSessions + "/" + s.id + "/notify-ready", api_.doctor_b);
    ASSERT_TRUE(eventually([&] { return emails().size() == 2; }));
    EXPECT_EQ(api_.query_column("SELECT count(*) FROM outbound_messages WHERE channel = 'sms'"), std::vector<std::string>{"1"});
}

TEST_F(MessagingTest, ServerErrorsRateLimitsAndDroppedConnectionsAreRetried) {
    twilio_.control("fault", {{"mode", "500"}, {"count", 2}, {"paths", {"Messages.json"}}});
    auto a = api_.scheduled_session();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(a.patient_id)).size() == 1; }, 20s));
    ASSERT_TRUE(eventually([&] { return stored_status(messages_to(phone_of(a.patient_id))[0]["sid"]) == "queued"; }));
    EXPECT_EQ(api_.query_column("SELECT attempts FROM outbound_messages WHERE session_id = '" + a.id + "'"),
              std::vector<std::string>{"3"});

    twilio_.control("fault", {{"mode", "429"}, {"count", 1}, {"retry_after", 1}, {"paths", {"Messages.json"}}});
    auto b = api_.scheduled_session();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(b.patient_id)).size() == 1; }, 20s));
    ASSERT_TRUE(eventually([&] {
        return api_.query_column("SELECT attempts FROM outbound_messages WHERE session_id = '" + b.id + "'") ==
               std::vector<std::string>{"2"};
    }));

    twilio_.control("fault", {{"mode", "drop"}, {"count", 1}, {"paths", {"Messages.json"}}});
    auto c = api_.scheduled_session();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(c.patient_id)).size() == 1; }, 20s));
    const auto stats = twilio_.get("/_control/stats");
    EXPECT_EQ(stats["faults"], 4);
    EXPECT_TRUE(api_.healthy());
}

TEST_F(MessagingTest, PermanentRefusalIsStoredAndShownWithoutRetrying) {
    exec_sql(api_.db_path(), "UPDATE patients SET phone = '+1555' WHERE id = '" + api_.patients[0] + "'");
    auto s = api_.scheduled_session(api_.patients[0]);
    ASSERT_TRUE(eventually([&] {
        auto d = api_.call("GET", kSessions + "/" + s.id, api_.admin);
        return d.body["invite"]["status"] == "rejected";
    }));
    auto d = api_.call("GET", kSessions + "/" + s.id, api_.admin);
    EXPECT_EQ(d.body["messages"][0]["error"]["code"], 21211);
    EXPECT_EQ(d.body["messages"][0]["attempts"], 1);
    EXPECT_EQ(d.body["invite"]["notice"], "SMS failed: not a valid phone number — resend or give the patient the link");
    // The kiosk's list shows it beside the appointment too.
    auto list = api_.call("GET", kSessions + "?doctor_id=" + api::kDoctorB, api_.admin);
    bool listed = false;
    for (const auto& row : list.body["sessions"])
        if (row["id"] == s.id) listed = row["invite"]["notice"] == d.body["invite"]["notice"];
    EXPECT_TRUE(listed) << list.text();
}

TEST_F(MessagingTest, IceServersComeFromTwilioAndAreCached) {
    auto s = api_.scheduled_session();
    json first;
    ASSERT_TRUE(eventually([&] {
        first = api_.call("GET", "/api/ice-servers", s.patient_token).body;
        return first.value("source", "") == "twilio";
    }));
    bool turn = false;
    for (const auto& server : first["ice_servers"])
        turn |= server["urls"].get<std::string>().starts_with("turn:") && server.contains("credential");
    EXPECT_TRUE(turn) << first.dump();
    auto second = api_.call("GET", "/api/ice-servers", api_.doctor_b).body;
    EXPECT_EQ(second["ice_servers"], first["ice_servers"]);
    EXPECT_EQ(twilio_.get("/_control/stats")["tokens"], 1);
    EXPECT_EQ(api_.call("GET", "/api/ice-servers", "").status, 401);
    const std::string m = api_.call("GET", "/metrics", "").raw.body;
    EXPECT_EQ(metric_value(m, R"(consult_twilio_token_requests_total{outcome="ok"})"), 1) << m;
    EXPECT_EQ(metric_value(m, R"(consult_twilio_token_requests_total{outcome="failed"})"), -1) << "none failed";
}

// Twilio and email off: nothing is sent and the API hands the kiosk the link.
TEST(MessagingOff, InviteLinkInsteadOfSmsAndConfiguredStunServers) {
    auto args = api::kFastRateLimit;
    args.insert(args.end(), {"--set", "media.stun_servers=stun:stun.example.org:3478"});
    api::ApiDaemon api(args);
    api.start();
    auto s = api.scheduled_session();
    EXPECT_EQ(s.created["invite"]["channel"], "none") << s.created.dump();
    EXPECT_EQ(s.created["invite"]["link"], s.created["patient_invite_url"]);
    auto ice = api.call("GET", "/api/ice-servers", s.patient_token);
    EXPECT_EQ(ice.body["source"], "configured");
    EXPECT_EQ(ice.body["ice_servers"], json::parse(R"([{"urls":"stun:stun.example.org:3478"}])"));
    auto ready = api.call("POST", kSessions + "/" + s.id + "/notify-ready", api.doctor_b);
    EXPECT_EQ(ready.body["ready"]["channel"], "none");
    auto hook = api.send("POST", "/api/webhooks/twilio/message-status",
                         {"Content-Type: application/x-www-form-urlencoded", "X-Twilio-Signature: abc="}, "MessageSid=SM1");
    EXPECT_TRUE(api::is_error(hook, 500, "webhook_not_configured"));
}

// Twilio configured but unreachable: calls still get the configured STUN servers.
TEST(MessagingOff, UnreachableTwilioFallsBackToStun) {
    auto args = api::kFastRateLimit;
    for (std::string s : {"twilio.api_base_url=http://127.0.0.1:" + std::to_string(free_port()),
                          "twilio.account_sid=" + kAccount, "twilio.from_number=" + kFrom,
                          std::string("media.stun_servers=stun:stun.example.org:3478")})
        args.insert(args.end(), {"--set", s});
    api::ApiDaemon api(args);
    write_credential(api.proc().state_dir(), "twilio-auth-token", kAuthToken);
    api.start();
    auto ice = api.call("GET", "/api/ice-servers", api.admin);
    EXPECT_EQ(ice.body["source"], "configured") << ice.text();
    EXPECT_TRUE(eventually([&] {
        return api.proc().stderr_text().find("Network Traversal Service is unreachable") != std::string::npos;
    }, 30s));
    // Counted for the alert on Twilio API issues (monitoring/consult-alerts.yml: ConsultTwilioTokensFailing).
    const std::string m = api.call("GET", "/metrics", "").raw.body;
    EXPECT_GE(metric_value(m, R"(consult_twilio_token_requests_total{outcome="failed"})"), 1) << m;
}


TEST_F(MessagingTest, ConsultctlStatusShowsTheChannelsAndTheLastFailure) {
    auto s = api_.scheduled_session();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 1; }));
    callback(messages_to(phone_of(s.patient_id))[0]["sid"], {"undelivered"}, {{"error_code", 30003}});
    const auto conf = api_.proc().temp_dir() / "status.conf";
    write_file(conf, "[http]\nport = " + std::to_string(api_.proc().port()) + "\n[twilio]\naccount_sid = " + kAccount +
                         "\nfrom_number = " + kFrom + "\n[email]\nsmtp_url = smtp://127.0.0.1:" +
                         std::to_string(smtp_.port()) + "\nfrom = " + kClinicEmail + "\n");
    auto r = run_command({consultctl_bin(), "--config", conf.string(), "--state-dir", api_.proc().state_dir().string(),
                          "status"}, 30s);
    EXPECT_NE(r.out.find("SMS:             on\n"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find("email:           on\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("TURN:            twilio\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 sms undelivered"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("last failure:    sms invite: number unreachable"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(phone_of(s.patient_id)), std::string::npos);
}


TEST_F(MessagingTest, KioskResendsAFailedInviteOrSendsItByEmail) {
    auto appt = api_.book();
    set_email(appt["patient_id"], "patient.three@example.org");
    auto s = api_.create_session(appt);
    const std::string sid = invite_sid(s.patient_id);
    ASSERT_FALSE(sid.empty());
    const std::string invite = kSessions + "/" + s.id + "/invite";
    // Still on its way: not sent twice.
    EXPECT_TRUE(api::is_error(api_.call("POST", invite, api_.doctor_b, {{"channel", "sms"}}), 409, "invite_already_sent"));
    EXPECT_TRUE(api::is_error(api_.call("POST", invite, api_.doctor_b, {{"channel", "fax"}}), 422, "invalid_enum", "channel"));
    EXPECT_EQ(api_.call("POST", invite, api_.doctor_a, {{"channel", "sms"}}).status, 403);
    // Twilio gives up on it: the email goes out by itself, and the kiosk can still resend by SMS.
    callback(sid, {"failed"}, {{"error_code", 30008}});
    ASSERT_TRUE(eventually([&] { return emails().size() == 1; }));   // the automatic fallback
    auto again = api_.call("POST", invite, api_.doctor_b, {{"channel", "sms"}});
    ASSERT_EQ(again.status, 200) << again.text();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 2; }));
    EXPECT_TRUE(api::is_error(api_.call("POST", invite, api_.doctor_b, {{"channel", "email"}}), 409, "invite_already_sent"));
    EXPECT_EQ(api_.query_column("SELECT action FROM audit_log WHERE action = 'session.invite_resend'").size(), 1u);
}


TEST_F(MessagingTest, TheDaemonsClockSendsTheReminderOnce) {
    auto s = api_.scheduled_session();
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 1; }));
    // The slot moves to 10 minutes from now (the patient hears of the move), and the
    // session was made well before.
    exec_sql(api_.db_path(), "UPDATE video_consultation_sessions SET created_at = '" +
                                 api::iso_utc(std::time(nullptr) - 3600) + "' WHERE id = '" + s.id + "'");
    exec_sql(api_.db_path(), "UPDATE appointments SET starts_at = '" + api::iso_utc(std::time(nullptr) + 600) +
                                 "' WHERE id = '" + s.appointment_id + "'");
    ASSERT_TRUE(eventually([&] { return messages_to(phone_of(s.patient_id)).size() == 3; }, 40s));   // a 15 s clock
    const auto sent = messages_to(phone_of(s.patient_id));
    EXPECT_NE(sent[1]["body"].get<std::string>().find("has moved to"), std::string::npos) << sent[1]["body"];
    EXPECT_NE(sent[2]["body"].get<std::string>().find("reminder"), std::string::npos) << sent[2]["body"];
    EXPECT_NE(sent[2]["body"].get<std::string>().find("/v/" + s.room + "#t="), std::string::npos);
    // One more pass of the clock, counted by the daemon itself: nothing new.
    const std::string ticks = "consult_patient_message_clock_ticks_total";
    auto passes = [&] { return metric_value(api_.call("GET", "/metrics", "").raw.body, ticks); };
    const double seen = passes();
    ASSERT_GE(seen, 1);
    ASSERT_TRUE(eventually([&] { return passes() > seen; }, 40s));
    EXPECT_EQ(messages_to(phone_of(s.patient_id)).size(), 3u);
}

}  // namespace
}  // namespace consult::test::twilio
