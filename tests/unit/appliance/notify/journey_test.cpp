// The patient's journey against the real store, fake channels and a fake clock: a booked
// video appointment gets its session and one confirmation, a move one update, a
// cancellation one cancellation, in-person nothing; the patient's choice of channel is
// honoured; the reminder goes 15 minutes before whether or not the doctor tapped Start.
#include "appliance/notify/journey.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/notify/message_text.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "fake_channels.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace consult::notify {
namespace {

using store::DemoIds;

class JourneyTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(store::Database::open(dir_ / "consult.db"));
        store::migrate(*db_);
        store::seed_demo(*db_, std::chrono::system_clock::now());
        config_.http.public_base_url = "https://consult.example-clinic.org";
        patient_ = scalar("SELECT id FROM patients ORDER BY id LIMIT 1");
        phone_ = scalar("SELECT phone FROM patients WHERE id = '" + patient_ + "'");
    }
    std::string scalar(const std::string& sql) {
        auto st = db_->prepare(sql);
        return st.step() && !st.is_null(0) ? st.text(0) : "";
    }
    int count(const std::string& sql) { return std::stoi(scalar(sql)); }
    void sql(const std::string& text) { db_->exec(text); }

    // An appointment written as the cloud pull or a booking writes it (the triggers queue it).
    std::string book(std::time_t starts, const std::string& type = "video") {
        char id[40];
        std::snprintf(id, sizeof id, "a0000000-0000-4000-8000-%012d", ++made_);
        db_->prepare("INSERT INTO appointments(id, clinic_id, doctor_id, patient_id, starts_at, duration_minutes, "
                     "consultation_type, status, reason) VALUES (?1, ?2, ?3, ?4, ?5, 30, ?6, 'scheduled', "
                     "'toothache, lower left')")
            .bind(1, std::string_view(id)).bind(2, std::string_view(DemoIds::clinic))
            .bind(3, std::string_view(DemoIds::doctor_a)).bind(4, std::string_view(patient_))
            .bind(5, std::string_view(domain::iso_utc(starts))).bind(6, std::string_view(type))
            .run();
        return std::string(id);
    }
    std::string session_of(const std::string& appointment) {
        return scalar("SELECT id FROM video_consultation_sessions WHERE appointment_id = '" + appointment + "'");
    }
    std::string code_of(const std::string& session) {
        return scalar("SELECT code FROM short_links WHERE session_id = '" + session + "'");
    }
    void move(const std::string& appointment, std::time_t to) {
        sql("UPDATE appointments SET starts_at = '" + domain::iso_utc(to) + "' WHERE id = '" + appointment + "'");
    }
    void prefer(const std::string& choice) {
        sql("UPDATE patients SET email = 'pat@example.org', notify_via = " +
            (choice.empty() ? std::string("NULL") : "'" + choice + "'") + " WHERE id = '" + patient_ + "'");
    }
    int queued() { return count("SELECT count(*) FROM appointment_changes"); }

    test::TempDir dir_;
    std::optional<store::Database> db_;
    Config config_;
    tokens::TokenService tokens_{std::string(32, 'k')};
    FakeSms sms_;
    FakeEmail email_;
    std::string patient_, phone_;
    int made_ = 0;
    // Never on a whole minute: the demo's own appointments are (on :00 and :30 today and
    // tomorrow), and a booking or a move onto one of them fails the doctor's unique slot.
    const std::time_t now_ = std::time(nullptr) / 60 * 60 + 7;
};

TEST_F(JourneyTest, ABookedVideoAppointmentGetsItsSessionAndOneConfirmationWithTheShortLink) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    EXPECT_EQ(queued(), 0) << "the demo's own appointments are not news";
    const auto appt = book(now_ + 3 * 86400);
    EXPECT_EQ(queued(), 1);
    j.tick(now_);
    EXPECT_EQ(queued(), 0);
    const std::string session = session_of(appt);
    ASSERT_FALSE(session.empty());
    EXPECT_EQ(scalar("SELECT status FROM video_consultation_sessions WHERE id = '" + session + "'"), "scheduled");
    ASSERT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(sms_.sent[0].to, phone_);
    const std::string& body = sms_.sent[0].body;
    EXPECT_NE(body.find("https://consult.example-clinic.org/j/" + code_of(session)), std::string::npos) << body;
    EXPECT_NE(body.find(format_when(now_ + 3 * 86400)), std::string::npos) << body;
    EXPECT_EQ(body.find("toothache"), std::string::npos) << "no clinical detail in a message";
    EXPECT_EQ(scalar("SELECT purpose FROM outbound_messages"), "invite");
    // Seen again (a second pull of the same row, a restart): nothing new.
    sql("UPDATE appointments SET status = 'confirmed' WHERE id = '" + appt + "'");
    j.tick(now_ + 60);
    j.tick(now_ + 120);
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM video_consultation_sessions WHERE appointment_id = '" + appt + "'"), 1);
}

// A first pairing queues a whole diary at once: the clock handles it a slice at a time,
// saying when more is waiting, so that no turn of the main loop holds a call up for long.
TEST_F(JourneyTest, ABacklogIsHandledASliceAtATime) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    for (int i = 0; i < 25; ++i) book(now_ + 86400 + i * 3600, "in-person");
    ASSERT_EQ(queued(), 25);
    EXPECT_TRUE(j.tick(now_));
    EXPECT_EQ(queued(), 15);
    EXPECT_TRUE(j.tick(now_));
    EXPECT_EQ(queued(), 5);
    EXPECT_FALSE(j.tick(now_)) << "the last, short slice";
    EXPECT_EQ(queued(), 0);
    EXPECT_FALSE(j.tick(now_));
}

TEST_F(JourneyTest, InPersonAndPastAppointmentsGetNothing) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto in_person = book(now_ + 86400, "in-person");
    const auto over = book(now_ - 3600);
    j.tick(now_);
    EXPECT_EQ(session_of(in_person), "");
    EXPECT_EQ(session_of(over), "");
    EXPECT_TRUE(sms_.sent.empty());
    EXPECT_EQ(queued(), 0);
}

TEST_F(JourneyTest, AMovedAppointmentGetsOneUpdatePerNewTimeAndANewReminder) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto appt = book(now_ + 86400);
    j.tick(now_);
    ASSERT_EQ(sms_.sent.size(), 1u);
    const std::string session = session_of(appt);
    move(appt, now_ + 2 * 86400);
    j.tick(now_ + 60);
    ASSERT_EQ(sms_.sent.size(), 2u);
    EXPECT_NE(sms_.sent[1].body.find("moved to " + format_when(now_ + 2 * 86400)), std::string::npos) << sms_.sent[1].body;
    EXPECT_NE(sms_.sent[1].body.find("/j/" + code_of(session)), std::string::npos) << sms_.sent[1].body;
    j.tick(now_ + 120);
    sql("UPDATE appointments SET duration_minutes = 45 WHERE id = '" + appt + "'");   // not a move
    j.tick(now_ + 180);
    EXPECT_EQ(sms_.sent.size(), 2u);
    move(appt, now_ + 4 * 3600);   // and again, sooner
    j.tick(now_ + 240);
    ASSERT_EQ(sms_.sent.size(), 3u);
    EXPECT_NE(sms_.sent[2].body.find("moved to " + format_when(now_ + 4 * 3600)), std::string::npos);
    EXPECT_EQ(session_of(appt), session) << "the same room and link throughout";
    // The reminder is for the time in force, 15 minutes before it.
    n.tick(now_ + 4 * 3600 - 15 * 60);
    ASSERT_EQ(sms_.sent.size(), 4u);
    EXPECT_NE(sms_.sent[3].body.find("reminder"), std::string::npos);
    n.tick(now_ + 4 * 3600 - 5 * 60);
    EXPECT_EQ(sms_.sent.size(), 4u);
}

// A slot moved to inside the reminder window while the clock is behind (a backlog of
// changes, a slow Twilio): the patient hears of the move first and of the reminder after,
// never the other way round.
TEST_F(JourneyTest, TheReminderWaitsUntilTheMoveIsHandledAndAccepted) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto appt = book(now_ + 86400);
    j.tick(now_ - 3600);
    ASSERT_EQ(sms_.sent.size(), 1u);
    sql("UPDATE video_consultation_sessions SET created_at = '" + domain::iso_utc(now_ - 3600) + "'");   // made well before
    for (int i = 0; i < 12; ++i) book(now_ + 2 * 86400 + i * 3600, "in-person");   // a backlog ahead of it
    move(appt, now_ + 10 * 60);
    sql("UPDATE appointment_changes SET queued_at = '2000-01-01T00:00:00.000Z' WHERE appointment_id != '" + appt + "'");
    n.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 1u) << "no reminder while its appointment's change is still queued";
    sms_.hold = true;
    EXPECT_TRUE(j.tick(now_));   // the backlog's first slice
    EXPECT_FALSE(j.tick(now_));  // the move: the update goes out, and Twilio has not answered
    ASSERT_EQ(sms_.sent.size(), 2u);
    n.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 2u) << "no reminder while the update is in flight";
    sms_.hold = false;
    for (auto& done : sms_.held) done(SendOutcome{true, FakeSms::sid(1), "queued", std::nullopt, "", 1});
    sms_.held.clear();
    n.tick(now_ + 15);
    ASSERT_EQ(sms_.sent.size(), 3u);
    EXPECT_NE(sms_.sent[1].body.find("moved to"), std::string::npos) << sms_.sent[1].body;
    EXPECT_NE(sms_.sent[2].body.find("reminder"), std::string::npos) << sms_.sent[2].body;
}

TEST_F(JourneyTest, ACancelledAppointmentCancelsItsSessionAndTellsThePatientOnce) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto appt = book(now_ + 86400);
    j.tick(now_);
    const std::string session = session_of(appt);
    sql("UPDATE appointments SET status = 'cancelled' WHERE id = '" + appt + "'");
    j.tick(now_ + 60);
    EXPECT_EQ(scalar("SELECT status FROM video_consultation_sessions WHERE id = '" + session + "'"), "cancelled");
    ASSERT_EQ(sms_.sent.size(), 2u);
    EXPECT_NE(sms_.sent[1].body.find("is cancelled"), std::string::npos) << sms_.sent[1].body;
    EXPECT_EQ(sms_.sent[1].body.find("/j/"), std::string::npos) << "no link to a cancelled consultation";
    j.tick(now_ + 120);
    n.tick(now_ + 86400 - 15 * 60);   // and no reminder for it
    EXPECT_EQ(sms_.sent.size(), 2u);
    // A patient never told of an appointment is not told it is off.
    prefer("none");
    const auto quiet = book(now_ + 2 * 86400);
    j.tick(now_ + 180);
    sql("UPDATE appointments SET status = 'cancelled' WHERE id = '" + quiet + "'");
    j.tick(now_ + 240);
    EXPECT_EQ(sms_.sent.size(), 2u);
    EXPECT_TRUE(email_.sent.empty());
}

TEST_F(JourneyTest, ThePatientsChoiceOfChannelIsHonoured) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    prefer("email");
    book(now_ + 86400);
    j.tick(now_);
    EXPECT_TRUE(sms_.sent.empty());
    ASSERT_EQ(email_.sent.size(), 1u);
    EXPECT_EQ(email_.sent[0].to, "pat@example.org");
    EXPECT_NE(email_.sent[0].body.find("/j/"), std::string::npos);

    prefer("both");
    book(now_ + 2 * 86400);
    j.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(email_.sent.size(), 2u);

    prefer("none");
    const auto quiet = book(now_ + 3 * 86400);
    j.tick(now_);
    EXPECT_FALSE(session_of(quiet).empty()) << "the room is ready; the clinic gives the link by hand";
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(email_.sent.size(), 2u);
    auto state = n.session_created(session_of(quiet), "https://x/v/r#t=1");
    EXPECT_EQ(state["channel"], "none");
    EXPECT_NE(state["reason"].get<std::string>().find("asked for no messages"), std::string::npos);

    // No choice of their own: the clinic's default.
    prefer("");
    config_.notify.channels = "email";
    book(now_ + 4 * 86400);
    j.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(email_.sent.size(), 3u);
}

TEST_F(JourneyTest, EmailFirstFallsBackToSmsAndSmsFirstToEmail) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    prefer("email");
    email_.fail = true;
    book(now_ + 86400);
    j.tick(now_);
    EXPECT_EQ(email_.sent.size(), 1u);
    ASSERT_EQ(sms_.sent.size(), 1u) << "the backup of a failed email, for a patient who chose email";
    email_.fail = false;
    prefer("sms");
    SendOutcome refused;
    refused.error_code = 21211;
    refused.error_message = "not a valid phone number";
    sms_.refuse = refused;
    book(now_ + 2 * 86400);
    j.tick(now_);
    EXPECT_EQ(sms_.sent.size(), 2u);
    EXPECT_EQ(email_.sent.size(), 2u);
}

TEST_F(JourneyTest, TheReminderGoesWhetherOrNotTheDoctorTappedStart) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const std::time_t starts = now_ + 3 * 3600;
    book(starts);
    j.tick(now_);
    ASSERT_EQ(sms_.sent.size(), 1u);
    n.tick(starts - 16 * 60);
    EXPECT_EQ(sms_.sent.size(), 1u);
    n.tick(starts - 15 * 60);
    ASSERT_EQ(sms_.sent.size(), 2u);
    EXPECT_NE(sms_.sent[1].body.find("reminder"), std::string::npos);
    EXPECT_NE(sms_.sent[1].body.find("#t="), std::string::npos) << "close to the time: the page's own link";
}

TEST_F(JourneyTest, NothingIsPreparedWhenTheClinicTurnedItOff) {
    config_.notify.prepare_at_booking = false;
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto appt = book(now_ + 86400);
    j.tick(now_);
    EXPECT_EQ(session_of(appt), "");
    EXPECT_TRUE(sms_.sent.empty());
    EXPECT_EQ(queued(), 0);
}

TEST_F(JourneyTest, AChangeThatKeepsFailingIsRetriedThenDroppedWithoutStoppingTheRest) {
    Notifier n(*db_, config_, tokens_, &sms_, &email_);
    Journey j(*db_, config_, n);
    const auto broken = book(now_ + 86400);
    // The store refuses this appointment's session (a full disk would look the same).
    sql("CREATE TRIGGER refuse BEFORE INSERT ON video_consultation_sessions WHEN new.appointment_id = '" + broken +
        "' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
    const auto fine = book(now_ + 2 * 86400);
    j.tick(now_);
    EXPECT_FALSE(session_of(fine).empty()) << "one bad appointment does not hold up the others";
    EXPECT_EQ(sms_.sent.size(), 1u);
    EXPECT_EQ(scalar("SELECT attempts FROM appointment_changes WHERE appointment_id = '" + broken + "'"), "1");
    for (int i = 0; i < 4; ++i) j.tick(now_ + 60 * (i + 1));
    EXPECT_EQ(queued(), 0) << "given up after five passes";
    EXPECT_EQ(session_of(broken), "");
}

}  // namespace
}  // namespace consult::notify
