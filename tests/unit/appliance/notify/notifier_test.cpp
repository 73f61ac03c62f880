// The notifier against the real store and fake channels: what is sent when, by which
// channel, never twice, and what a status callback changes.
#include "appliance/notify/notifier.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/session_store.hpp"
#include "fake_channels.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::notify {
namespace {

class NotifierTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(store::Database::open(dir_ / "consult.db"));
        store::migrate(*db_);
        store::seed_demo(*db_, std::chrono::system_clock::now());
        config_.http.public_base_url = "https://consult.example-clinic.org";
    }
    std::string scalar(const std::string& sql) {
        auto st = db_->prepare(sql);
        return st.step() ? st.text(0) : "";
    }
    int count(const std::string& sql) { return std::stoi(scalar(sql)); }
    // A video appointment moved to `starts_at` with a reason (which must never be sent), and its session.
    std::string session(std::time_t starts_at, std::optional<std::string> email = std::nullopt, bool phone = true) {
        const std::string appt = scalar("SELECT id FROM appointments WHERE consultation_type != 'in-person' AND "
                                        "video_session_id IS NULL ORDER BY starts_at LIMIT 1");
        db_->prepare("UPDATE appointments SET starts_at = ?1, reason = 'chest pain and dizziness' WHERE id = ?2")
            .bind(1, std::string_view(domain::iso_utc(starts_at + 7 * (++made_)))).bind(2, std::string_view(appt)).run();
        const std::string patient = scalar("SELECT patient_id FROM appointments WHERE id = '" + appt + "'");
        db_->prepare("UPDATE patients SET email = ?1, phone = CASE WHEN ?2 THEN phone ELSE NULL END WHERE id = ?3")
            .bind(1, email).bind(2, phone ? 1 : 0).bind(3, std::string_view(patient)).run();
        db_->exec("DELETE FROM appointment_changes");   // the journey's queue, which these tests do not drive
        return store::SessionStore(*db_).create(appt, 30, "doctor").id;
    }
    void backdate_creation(const std::string& id, std::time_t t) {
        db_->prepare("UPDATE video_consultation_sessions SET created_at = ?1 WHERE id = ?2")
            .bind(1, std::string_view(domain::iso_utc(t))).bind(2, std::string_view(id)).run();
    }

    test::TempDir dir_;
    std::optional<store::Database> db_;
    Config config_;
    tokens::TokenService tokens_{std::string(32, 'k')};
    FakeSms sms_;
    FakeEmail email_;
    int made_ = 0;
    const std::time_t now_ = std::time(nullptr);
};

TEST_F(NotifierTest, InviteGoesBySmsOnceWithTheLinkAndNoClinicalDetail) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600);
    auto state = n.session_created(id, "https://consult.example-clinic.org/v/room#t=abc");
    EXPECT_EQ(state["channel"], "sms");
    ASSERT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(sms_.sent[0].to.substr(0, 2), "+1");
    EXPECT_NE(sms_.sent[0].body.find("https://consult.example-clinic.org/v/room#t=abc"), std::string::npos);
    EXPECT_NE(sms_.sent[0].body.find("Demo"), std::string::npos) << sms_.sent[0].body;   // the clinic's name
    EXPECT_EQ(sms_.sent[0].body.find("chest"), std::string::npos);
    // Asking again sends nothing and reports the first one.
    state = n.session_created(id, "https://consult.example-clinic.org/v/room#t=abc");
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(state["status"], "queued");
    EXPECT_EQ(count("SELECT count(*) FROM outbound_messages WHERE session_id = '" + id + "'"), 1);
    EXPECT_EQ(scalar("SELECT provider_sid FROM outbound_messages WHERE session_id = '" + id + "'"), sms_.sid(0));
}

TEST_F(NotifierTest, TheSqlKeyRefusesASecondRowForTheSamePurposeChannelAndTime) {
    const auto id = session(now_ + 3 * 3600);
    store::MessageRecords store(*db_);
    const std::string patient = scalar("SELECT a.patient_id FROM video_consultation_sessions s JOIN appointments a "
                                       "ON a.id = s.appointment_id WHERE s.id = '" + id + "'");
    const std::string at = "2026-12-01T09:00:00.000Z", moved = "2026-12-01T10:00:00.000Z";
    EXPECT_TRUE(store.reserve(id, patient, "invite", "sms", at));
    EXPECT_FALSE(store.reserve(id, patient, "invite", "sms", at));
    EXPECT_TRUE(store.reserve(id, patient, "invite", "email", at));
    EXPECT_TRUE(store.reserve(id, patient, "update", "sms", moved));
    EXPECT_FALSE(store.reserve(id, patient, "update", "sms", moved));
    EXPECT_THROW(db_->exec("INSERT INTO outbound_messages(id, session_id, patient_id, purpose, channel, about) SELECT "
                           "'00000000-0000-4000-8000-000000000000', session_id, patient_id, purpose, channel, about "
                           "FROM outbound_messages LIMIT 1"),
                 store::StoreError);
}

TEST_F(NotifierTest, NoPhoneMeansEmailAndNoAddressMeansTheLinkOnTheKiosk) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    auto by_email = n.session_created(session(now_ + 3 * 3600, "pat@example.org", false), "https://x/v/r#t=1");
    EXPECT_EQ(by_email["channel"], "email");
    ASSERT_EQ(email_.sent.size(), 1u);
    EXPECT_EQ(email_.sent[0].to, "pat@example.org");
    EXPECT_NE(email_.sent[0].body.find("https://x/v/r#t=1"), std::string::npos);
    EXPECT_EQ(email_.sent[0].body.find("chest"), std::string::npos);
    auto none = n.session_created(session(now_ + 4 * 3600, std::nullopt, false), "https://x/v/r#t=2");
    EXPECT_EQ(none["channel"], "none");
    EXPECT_EQ(none["link"], "https://x/v/r#t=2");
    EXPECT_EQ(sms_.sent.size(), 0u);
}

TEST_F(NotifierTest, WithBothChannelsOffTheApiSaysSoAndGivesTheLink) {
    Notifier n(*db_, config_, tokens_, nullptr, nullptr);
    auto state = n.session_created(session(now_ + 3 * 3600, "pat@example.org"), "https://x/v/r#t=1");
    EXPECT_EQ(state["channel"], "none");
    EXPECT_EQ(state["status"], "not_sent");
    EXPECT_EQ(state["link"], "https://x/v/r#t=1");
    EXPECT_NE(state["reason"].get<std::string>().find("off"), std::string::npos);
    n.tick(now_);
    EXPECT_EQ(count("SELECT count(*) FROM outbound_messages"), 0);
}

TEST_F(NotifierTest, ReminderFifteenMinutesBeforeTheSlotOnlyOnce) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const std::time_t starts = now_ + 3600;
    const auto id = session(starts);
    backdate_creation(id, now_ - 86400);
    const std::time_t slot = starts + 7;   // session() staggers starts by 7 s per appointment
    n.tick(slot - 16 * 60);
    EXPECT_EQ(sms_.sent.size(), 0u);
    n.tick(slot - 15 * 60);
    ASSERT_EQ(sms_.sent.size(), 1u);
    EXPECT_NE(sms_.sent[0].body.find("reminder"), std::string::npos);
    EXPECT_NE(sms_.sent[0].body.find("https://consult.example-clinic.org/v/"), std::string::npos);
    EXPECT_NE(sms_.sent[0].body.find("#t="), std::string::npos);   // a fresh patient link
    n.tick(slot - 10 * 60);
    n.tick(slot - 1);
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM outbound_messages WHERE purpose = 'reminder'"), 1);
}

TEST_F(NotifierTest, NoReminderForASessionMadeInsideTheWindowOrAlreadyOver) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto late = session(now_ + 5 * 60);   // made 5 minutes ahead: the invite is enough
    const auto cancelled = session(now_ + 10 * 60);
    backdate_creation(cancelled, now_ - 86400);
    store::SessionStore(*db_).transition(cancelled, domain::SessionStatus::Cancelled, "doctor");
    n.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 0u);
    (void)late;
}

TEST_F(NotifierTest, DoctorReadyIsSentOncePerSession) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3600);
    auto first = n.doctor_ready(id);
    auto second = n.doctor_ready(id);
    ASSERT_EQ(sms_.sent.size(), 1u);
    EXPECT_NE(sms_.sent[0].body.find("ready"), std::string::npos);
    EXPECT_EQ(first["channel"], "sms");
    EXPECT_EQ(second["already_sent"], true);
    // Not for a session that is over.
    const auto over = session(now_ + 7200);
    store::SessionStore(*db_).transition(over, domain::SessionStatus::Cancelled, "doctor");
    EXPECT_EQ(n.doctor_ready(over)["channel"], "none");
    EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierTest, StatusCallbacksNeverMoveBackwardsAndDuplicatesChangeNothing) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600);
    n.session_created(id, "https://x/v/r#t=1");
    const auto sid = sms_.sid(0);
    auto status = [&] { return scalar("SELECT status FROM outbound_messages WHERE provider_sid = '" + sid + "'"); };
    EXPECT_TRUE(n.message_status(sid, "sent", std::nullopt, ""));
    EXPECT_EQ(status(), "sent");
    EXPECT_TRUE(n.message_status(sid, "delivered", std::nullopt, ""));
    EXPECT_TRUE(n.message_status(sid, "sent", std::nullopt, ""));       // late
    EXPECT_TRUE(n.message_status(sid, "queued", std::nullopt, ""));     // very late
    EXPECT_TRUE(n.message_status(sid, "delivered", std::nullopt, ""));  // again
    EXPECT_EQ(status(), "delivered");
    EXPECT_TRUE(n.message_status(sid, "undelivered", 30003, ""));       // contradicts a final state
    EXPECT_EQ(status(), "delivered");
    EXPECT_TRUE(n.message_status(sid, "bogus", std::nullopt, ""));
    EXPECT_EQ(status(), "delivered");
    EXPECT_FALSE(n.message_status("SM" + std::string(32, 'f'), "delivered", std::nullopt, ""));
    EXPECT_EQ(email_.sent.size(), 0u);
}

TEST_F(NotifierTest, UndeliveredSmsFallsBackToEmailOnceAndTheKioskIsTold) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    n.session_created(id, "https://x/v/r#t=1");
    const auto sid = sms_.sid(0);
    n.message_status(sid, "sent", std::nullopt, "");
    n.message_status(sid, "undelivered", 30003, "");
    n.message_status(sid, "undelivered", 30003, "");   // duplicate
    n.message_status(sid, "failed", 30003, "");        // another final state
    ASSERT_EQ(email_.sent.size(), 1u);
    EXPECT_EQ(email_.sent[0].to, "pat@example.org");
    EXPECT_NE(email_.sent[0].body.find("/v/"), std::string::npos);   // a link with a fresh token
    EXPECT_EQ(email_.sent[0].body.find("chest"), std::string::npos);
    auto j = n.session_messages(id);
    EXPECT_EQ(j["invite"]["channel"], "email");
    EXPECT_EQ(j["invite"]["sms_error"]["code"], 30003);
    EXPECT_NE(j["invite"]["notice"].get<std::string>().find("number unreachable"), std::string::npos);
    EXPECT_EQ(j["messages"].size(), 2u);
    // The patient can still get SMS for later messages: undelivered is not an opt-out.
    n.doctor_ready(id);
    EXPECT_EQ(sms_.sent.size(), 2u);
}

TEST_F(NotifierTest, OptOutByCallbackSwitchesThePatientToEmailForGood) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    n.session_created(id, "https://x/v/r#t=1");
    n.message_status(sms_.sid(0), "failed", 21610, "");
    EXPECT_EQ(email_.sent.size(), 1u);
    n.doctor_ready(id);
    EXPECT_EQ(sms_.sent.size(), 1u);   // no more SMS to this patient
    ASSERT_EQ(email_.sent.size(), 2u);
    EXPECT_NE(email_.sent[1].subject.find("ready"), std::string::npos);
}

TEST_F(NotifierTest, RefusedAtSendWith21610IsStoredAndFallsBack) {
    sms_.refuse = SendOutcome{false, "", "", 21610, "Attempt to send to unsubscribed recipient", 1};
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    auto state = n.session_created(id, "https://x/v/r#t=1");
    EXPECT_EQ(scalar("SELECT status || ' ' || error_code FROM outbound_messages WHERE channel = 'sms'"), "rejected 21610");
    EXPECT_EQ(email_.sent.size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM patient_sms_opt_outs"), 1);
    auto j = n.session_messages(id);
    EXPECT_EQ(j["invite"]["channel"], "email");
    EXPECT_EQ(j["invite"]["status"], "sent");
}

TEST_F(NotifierTest, PermanentErrorWithoutEmailIsShownNextToTheSession) {
    sms_.refuse = SendOutcome{false, "", "", 21211, "The 'To' number is not a valid phone number.", 1};
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600);
    n.session_created(id, "https://x/v/r#t=1");
    auto j = n.session_messages(id);
    EXPECT_EQ(j["invite"]["channel"], "sms");
    EXPECT_EQ(j["invite"]["status"], "rejected");
    EXPECT_EQ(j["invite"]["notice"], "SMS failed: not a valid phone number — resend or give the patient the link");
    EXPECT_EQ(j["messages"][0]["error"]["code"], 21211);
    EXPECT_EQ(email_.sent.size(), 0u);
}

TEST_F(NotifierTest, SummaryByEmailAfterTheCallOnce) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3600, "pat@example.org");
    store::SessionStore s(*db_);
    auto appt = scalar("SELECT patient_id FROM appointments WHERE video_session_id = '" + id + "'");
    s.join(id, appt, "patient");
    s.transition(id, domain::SessionStatus::InProgress, "doctor");
    s.transition(id, domain::SessionStatus::Completed, "doctor", std::nullopt, "clinical notes: hypertension");
    n.tick(now_);
    n.tick(now_ + 30);
    ASSERT_EQ(email_.sent.size(), 1u);
    EXPECT_NE(email_.sent[0].body.find("has ended"), std::string::npos);
    EXPECT_EQ(email_.sent[0].body.find("hypertension"), std::string::npos);
    EXPECT_EQ(email_.sent[0].body.find("chest"), std::string::npos);
    EXPECT_EQ(sms_.sent.size(), 0u);   // the summary is email only
}

TEST_F(NotifierTest, ASendLeftPendingIsRetriedByTheClockButNotWhileInFlight) {
    sms_.hold = true;
    auto n = std::make_unique<Notifier>(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600);
    n->session_created(id, "https://x/v/r#t=1");
    n->tick(now_ + 120);
    EXPECT_EQ(sms_.sent.size(), 1u);   // still in flight: not sent again
    // The daemon stops before Twilio answers; a new one finds the row pending.
    n.reset();
    sms_.held.clear();
    sms_.hold = false;
    Notifier again(*db_, config_, tokens_, &sms_, &email_);
    again.tick(now_ + 120);
    ASSERT_EQ(sms_.sent.size(), 2u);
    EXPECT_EQ(scalar("SELECT status FROM outbound_messages"), "queued");
    again.tick(now_ + 240);
    EXPECT_EQ(sms_.sent.size(), 2u);
}

}  // namespace
}  // namespace consult::notify

namespace consult::notify {
namespace {

TEST_F(NotifierTest, KioskResendOnlyAfterAFailureAndOnlyByAChannelThatWorks) {
    sms_.refuse = SendOutcome{false, "", "", 30006, "Landline or unreachable carrier", 1};
    Notifier n(*db_, config_, tokens_, &sms_, nullptr);   // no email on this box
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    n.session_created(id, "https://x/v/r#t=1");
    ASSERT_EQ(sms_.sent.size(), 1u);
    EXPECT_THROW(n.resend_invite(id, Channel::Email), InviteRefused);   // email is off
    sms_.refuse.reset();
    auto state = n.resend_invite(id, Channel::Sms);
    ASSERT_EQ(sms_.sent.size(), 2u);
    EXPECT_NE(sms_.sent[1].body.find("#t="), std::string::npos);
    EXPECT_EQ(state["status"], "queued");
    EXPECT_FALSE(state.contains("notice"));
    try {
        n.resend_invite(id, Channel::Sms);   // it went out this time: not twice
        ADD_FAILURE() << "a queued invite was sent again";
    } catch (const InviteRefused& e) {
        EXPECT_EQ(e.code, "invite_already_sent");
    }
    EXPECT_EQ(sms_.sent.size(), 2u);
    EXPECT_EQ(count("SELECT count(*) FROM outbound_messages"), 1);
}

TEST_F(NotifierTest, KioskCanSendTheInviteByEmailBesideTheSms) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    n.session_created(id, "https://x/v/r#t=1");
    auto state = n.resend_invite(id, Channel::Email);
    ASSERT_EQ(email_.sent.size(), 1u);
    EXPECT_EQ(state["channel"], "email");
    EXPECT_THROW(n.resend_invite(id, Channel::Email), InviteRefused);
    EXPECT_EQ(email_.sent.size(), 1u);
}

}  // namespace
}  // namespace consult::notify

namespace consult::notify {
namespace {

TEST_F(NotifierTest, OutcomesAreCountedForMetrics) {
    Metrics metrics;
    Notifier n(*db_, config_, tokens_, &sms_, &email_, &metrics);
    const auto id = session(now_ + 3 * 3600, "pat@example.org");
    n.session_created(id, "https://x/v/r#t=1");
    n.message_status(sms_.sid(0), "undelivered", 30003, "");
    n.message_status(sms_.sid(0), "undelivered", 30003, "");   // a repeat is not counted twice
    const std::string text = metrics.render("test");
    auto value = [&](const std::string& labels) {
        const std::string key = "consult_patient_messages_total{" + labels + "} ";
        auto at = text.find(key);
        return at == std::string::npos ? std::string("absent") : text.substr(at + key.size(), text.find('\n', at) - at - key.size());
    };
    EXPECT_EQ(value("channel=\"sms\",purpose=\"invite\",outcome=\"accepted\""), "1") << text;
    EXPECT_EQ(value("channel=\"sms\",purpose=\"invite\",outcome=\"undelivered\""), "1") << text;
    EXPECT_EQ(value("channel=\"email\",purpose=\"invite\",outcome=\"accepted\""), "1") << text;
}

}  // namespace
}  // namespace consult::notify
