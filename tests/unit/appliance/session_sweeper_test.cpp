#include "appliance/session_sweeper.hpp"

#include "appliance/context.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/session_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult {
namespace {

class SessionSweep : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = store::Database::open(dir_ / "consult.db");
        store::migrate(db);
        store::seed_demo(db, std::chrono::system_clock::now());
        ctx_.reset(new ApplianceContext{Config{}, dir_.path(), std::move(db), Metrics(),
                                        tokens::TokenService("k"), std::nullopt, false});
    }
    std::string first_appointment() {
        auto st = ctx_->db.prepare("SELECT id FROM appointments ORDER BY starts_at LIMIT 1");
        st.step();
        return st.text(0);
    }
    std::string status_of(const std::string& sql) {
        auto st = ctx_->db.prepare(sql);
        return st.step() ? st.text(0) : "";
    }
    test::TempDir dir_;
    std::unique_ptr<ApplianceContext> ctx_;
};

TEST_F(SessionSweep, EndsACallThatRanPastItsTimeAndGrace) {
    store::SessionStore sessions(ctx_->db);
    auto s = sessions.create(first_appointment(), 30, "doc");
    sessions.join(s.id, s.patient_id, "patient");
    sessions.transition(s.id, domain::SessionStatus::InProgress, "doc");
    const std::time_t now = std::time(nullptr);
    EXPECT_EQ(sweep_sessions(ctx_->db, ctx_->config.sessions, ctx_->rooms, now).ended, 0) << "a fresh call runs on";
    auto r = sweep_sessions(ctx_->db, ctx_->config.sessions, ctx_->rooms, now + (30 + 10) * 60 + 1);
    EXPECT_EQ(r.ended, 1);
    EXPECT_EQ(status_of("SELECT status FROM video_consultation_sessions WHERE id = '" + s.id + "'"), "completed");
    EXPECT_EQ(status_of("SELECT end_reason FROM video_consultation_sessions WHERE id = '" + s.id + "'"),
              "time limit reached");
}

TEST_F(SessionSweep, RecordsNoShowsForPassedSlotsOnlyOnce) {
    const std::time_t far_future = std::time(nullptr) + 3 * 24 * 3600;  // every demo slot has passed
    auto first = sweep_sessions(ctx_->db, ctx_->config.sessions, ctx_->rooms, far_future);
    EXPECT_EQ(first.no_shows, 64);
    EXPECT_EQ(sweep_sessions(ctx_->db, ctx_->config.sessions, ctx_->rooms, far_future).no_shows, 0);
    EXPECT_EQ(status_of("SELECT count(*) FROM appointments WHERE status = 'no-show'"), "64");
    EXPECT_NE(session_metrics(ctx_->db).find("consult_no_shows_total 64"), std::string::npos);
}

TEST_F(SessionSweep, APatientWhoCameIsNoNoShow) {
    store::SessionStore sessions(ctx_->db);
    auto s = sessions.create(first_appointment(), 30, "doc");
    sessions.join(s.id, s.patient_id, "patient");
    sweep_sessions(ctx_->db, ctx_->config.sessions, ctx_->rooms, std::time(nullptr) + 3 * 24 * 3600);
    EXPECT_EQ(status_of("SELECT status FROM appointments WHERE id = '" + s.appointment_id + "'"), "scheduled");
}

}  // namespace
}  // namespace consult
