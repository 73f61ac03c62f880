#include "appliance/domain/errors.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/schedule_store.hpp"
#include "appliance/store/session_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace consult::store {
namespace {

using domain::SessionStatus;

class Sessions : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(Database::open(dir_ / "consult.db"));
        migrate(*db_);
        seed_demo(*db_, std::chrono::system_clock::now());
        auto st = db_->prepare("SELECT id FROM appointments WHERE doctor_id = ?1 ORDER BY starts_at LIMIT 1");
        st.bind(1, std::string_view(DemoIds::doctor_a));
        st.step();
        appointment_ = st.text(0);
    }
    int count(const std::string& sql) {
        auto st = db_->prepare(sql);
        st.step();
        return int(st.integer(0));
    }
    test::TempDir dir_;
    std::optional<Database> db_;
    std::string appointment_;
};

TEST_F(Sessions, CreateLinksTheAppointmentAndQueuesForTheCloud) {
    SessionStore s(*db_);
    auto row = s.create(appointment_, 30, "doc");
    EXPECT_EQ(row.status, "scheduled");
    EXPECT_GE(row.room_name.size(), 22u);
    EXPECT_EQ(row.doctor_id, DemoIds::doctor_a);
    EXPECT_EQ(count("SELECT count(*) FROM appointments WHERE video_session_id = '" + row.id + "'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE row_id = '" + row.id + "'"), 1);
    EXPECT_THROW(s.create(appointment_, 30, "doc"), domain::DomainError) << "one live session per appointment";
}

TEST_F(Sessions, FullLifecycleStoresEveryTransitionWithTimeAndActor) {
    SessionStore s(*db_);
    auto row = s.create(appointment_, 30, "doc");
    s.join(row.id, row.patient_id, "patient");
    EXPECT_EQ(s.find(row.id)->status, "waiting");
    EXPECT_TRUE(s.find(row.id)->patient_joined_at);
    s.join(row.id, row.doctor_id, "doctor");
    EXPECT_TRUE(s.find(row.id)->doctor_joined_at);
    auto started = s.transition(row.id, SessionStatus::InProgress, "doc");
    EXPECT_TRUE(started.started_at);
    auto ended = s.transition(row.id, SessionStatus::Completed, "doc", std::string("done"), std::string("notes"));
    EXPECT_TRUE(ended.ended_at);
    ASSERT_TRUE(ended.duration_seconds);
    EXPECT_GE(*ended.duration_seconds, 0);
    EXPECT_EQ(ended.notes, "notes");

    auto st = db_->prepare("SELECT from_status, to_status, actor, at FROM session_transitions "
                           "WHERE session_id = ?1 ORDER BY id");
    st.bind(1, std::string_view(row.id));
    std::vector<std::string> steps;
    while (st.step()) {
        steps.push_back(st.text(0) + ">" + st.text(1) + "@" + st.text(2));
        EXPECT_TRUE(domain::parse_iso(st.text(3)));
    }
    EXPECT_EQ(steps, (std::vector<std::string>{">scheduled@doc", "scheduled>waiting@" + row.patient_id,
                                               "waiting>in-progress@doc", "in-progress>completed@doc"}));
    EXPECT_EQ(count("SELECT count(*) FROM video_consultation_participants WHERE left_at IS NULL"), 0)
        << "ending closes every participant";
    EXPECT_EQ(count("SELECT count(*) FROM appointments WHERE status = 'completed'"), 1);
}

TEST_F(Sessions, IllegalTransitionsAreRefusedAndChangeNothing) {
    SessionStore s(*db_);
    auto row = s.create(appointment_, 30, "doc");
    EXPECT_THROW(s.transition(row.id, SessionStatus::InProgress, "doc"), domain::DomainError);
    EXPECT_THROW(s.transition(row.id, SessionStatus::Completed, "doc"), domain::DomainError);
    EXPECT_EQ(s.find(row.id)->status, "scheduled");
    s.transition(row.id, SessionStatus::Cancelled, "doc", std::string("patient rang"));
    EXPECT_THROW(s.join(row.id, row.patient_id, "patient"), domain::DomainError);
    EXPECT_EQ(count("SELECT count(*) FROM session_transitions WHERE session_id = '" + row.id + "'"), 2);
}

TEST_F(Sessions, PatientRejoiningDoesNotResetTheWaitingRoom) {
    SessionStore s(*db_);
    auto row = s.create(appointment_, 30, "doc");
    auto first = s.join(row.id, row.patient_id, "patient");
    s.leave(first.id);
    s.join(row.id, row.patient_id, "patient");
    EXPECT_EQ(s.find(row.id)->status, "waiting");
    auto parts = s.participants(row.id);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_TRUE(parts[0].left_at);
    EXPECT_FALSE(parts[1].left_at);
}

TEST_F(Sessions, ListFiltersByStatusAndDoctor) {
    SessionStore s(*db_);
    auto a = s.create(appointment_, 30, "doc");
    EXPECT_EQ(s.list({std::nullopt, std::nullopt, std::string("scheduled"), std::string(DemoIds::doctor_a)}).size(), 1u);
    EXPECT_TRUE(s.list({std::nullopt, std::nullopt, std::nullopt, std::string(DemoIds::doctor_b)}).empty());
    EXPECT_TRUE(s.list({std::nullopt, std::nullopt, std::string("completed"), std::nullopt}).empty());
    EXPECT_EQ(s.find_by_room(a.room_name)->id, a.id);
}

TEST_F(Sessions, NoShowMarksTheAppointmentAndCancelsAnUnusedSession) {
    SessionStore s(*db_);
    auto row = s.create(appointment_, 30, "doc");
    s.mark_no_show(appointment_);
    EXPECT_EQ(s.find(row.id)->status, "cancelled");
    EXPECT_EQ(s.find(row.id)->end_reason, "no-show");
    EXPECT_EQ(count("SELECT count(*) FROM appointments WHERE status = 'no-show'"), 1);
}

class Booking : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = Database::open(dir_ / "consult.db");
        migrate(db);
        seed_demo(db, std::chrono::system_clock::now());
        // Doctor B takes video calls every day, all day, in 30-minute slots.
        db.exec("DELETE FROM video_consultation_timings");
        ScheduleStore s(db);
        for (int day = 0; day < 7; ++day)
            s.create_timing({"", DemoIds::doctor_b, day, "00:00", "23:30", 30, true});
        auto p = db.prepare("SELECT id FROM patients LIMIT 1");
        p.step();
        patient_ = p.text(0);
        date_ = domain::Date{2030, 6, 4};
    }
    NewAppointment at(int minutes) {
        return {DemoIds::doctor_b, patient_, domain::iso_utc(domain::local_instant(date_, minutes)), "video", 30, {}};
    }
    test::TempDir dir_;
    std::string patient_;
    domain::Date date_{};
};

TEST_F(Booking, AFreeSlotBooksOnceAndThenIsGone) {
    auto db = Database::open(dir_ / "consult.db");
    ScheduleStore s(db);
    const auto before = s.availability(DemoIds::doctor_b, date_).size();
    s.book(at(10 * 60));
    EXPECT_EQ(s.availability(DemoIds::doctor_b, date_).size(), before - 1);
    try {
        s.book(at(10 * 60));
        FAIL() << "double booking accepted";
    } catch (const domain::DomainError& e) {
        EXPECT_EQ(e.code(), "slot_unavailable");
    }
    EXPECT_THROW(s.book(at(10 * 60 + 10)), domain::DomainError) << "not on the slot grid";
    auto in_person = at(10 * 60);
    in_person.consultation_type = "in-person";
    EXPECT_NO_THROW(s.book(in_person)) << "in-person visits do not use video slots";
}

TEST_F(Booking, TwoConcurrentBookingsForOneSlotGiveExactlyOneAppointment) {
    std::atomic<int> ok{0}, refused{0};
    auto attempt = [&] {
        auto db = Database::open(dir_ / "consult.db");
        try {
            ScheduleStore(db).book(at(11 * 60));
            ++ok;
        } catch (const domain::DomainError&) {
            ++refused;
        }
    };
    for (int round = 0; round < 5; ++round) {
        std::thread a(attempt), b(attempt);
        a.join();
        b.join();
    }
    EXPECT_EQ(ok.load(), 1);
    EXPECT_EQ(refused.load(), 9);
}

}  // namespace
}  // namespace consult::store
