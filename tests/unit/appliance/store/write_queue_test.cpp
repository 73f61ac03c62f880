#include "appliance/store/audit_batch.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/write_queue.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

namespace consult::store {
namespace {

using namespace std::chrono_literals;

class Queued : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(Database::open(dir_ / "consult.db"));
        migrate(*db_);
        db_->set_busy_timeout(10ms);
        other_.emplace(Database::open(dir_ / "consult.db"));
    }
    // The "main loop": timers run when the test says so.
    WriteQueue::Later later() {
        return [this](std::chrono::milliseconds wait, std::function<void()> f) { timers_.push_back({wait, std::move(f)}); };
    }
    void run_timers() {
        auto due = std::move(timers_);
        timers_.clear();
        for (auto& [wait, f] : due) f();
    }
    std::string count(const std::string& sql) {
        auto st = db_->prepare(sql);
        return st.step() ? st.text(0) : "";
    }
    test::TempDir dir_;
    std::optional<Database> db_, other_;
    std::vector<std::pair<std::chrono::milliseconds, std::function<void()>>> timers_;
};

void audit_row(Database& db, const std::string& action) { write_audit(db, {"x", "system", action, std::nullopt, "", nullptr}); }

TEST_F(Queued, AWriteRunsAtOnceWhenTheStoreIsFree) {
    WriteQueue q(*db_, later());
    q.submit("a", [](Database& db) { audit_row(db, "one"); });
    EXPECT_EQ(q.pending(), 0u);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), "1");
    EXPECT_TRUE(timers_.empty());
}

TEST_F(Queued, WritesWaitInOrderWhileAnotherProcessHoldsTheLockAndLandAfterIt) {
    WriteQueue q(*db_, later());
    other_->exec("BEGIN EXCLUSIVE");
    q.submit("first", [](Database& db) { audit_row(db, "first"); });
    q.submit("second", [](Database& db) { audit_row(db, "second"); });
    EXPECT_EQ(q.pending(), 2u);
    ASSERT_EQ(timers_.size(), 1u);
    EXPECT_EQ(timers_[0].first, WriteQueue::kFirstRetry);
    run_timers();   // still locked: backs off
    ASSERT_EQ(timers_.size(), 1u);
    EXPECT_EQ(timers_[0].first, WriteQueue::kFirstRetry * 2);
    other_->exec("ROLLBACK");
    run_timers();
    EXPECT_EQ(q.pending(), 0u);
    EXPECT_EQ(count("SELECT group_concat(action, ',') FROM (SELECT action FROM audit_log ORDER BY id)"), "first,second");
    EXPECT_GE(q.retries(), 2u);
}

TEST_F(Queued, AWriteTheStoreRefusesForGoodIsDroppedAndTheNextGoesOn) {
    WriteQueue q(*db_, later());
    q.submit("bad", [](Database& db) { db.exec("INSERT INTO no_such_table VALUES (1)"); });
    q.submit("good", [](Database& db) { audit_row(db, "good"); });
    EXPECT_EQ(q.pending(), 0u);
    EXPECT_EQ(q.dropped(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), "1");
}

TEST_F(Queued, AuditRowsOfOneTurnAreCommittedTogetherAndTheirWaitersHearIt) {
    AuditBatch batch(*db_, later());
    int committed = 0;
    for (int i = 0; i < 50; ++i)
        batch.add({"x", "doctor", "session.read", std::nullopt, "", nullptr}, [&](bool ok) { committed += ok; });
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), "0") << "nothing before the end of the turn";
    ASSERT_EQ(timers_.size(), 1u) << "one commit for the whole turn";
    run_timers();
    EXPECT_EQ(committed, 50);
    EXPECT_EQ(batch.commits(), 1u);
    EXPECT_EQ(count("SELECT count(*) FROM audit_log"), "50");
}

TEST_F(Queued, AuditRowsWaitForALockAndTheirWaitersHearWhenItDoesNotEnd) {
    AuditBatch batch(*db_, later());
    std::vector<bool> heard;
    other_->exec("BEGIN EXCLUSIVE");
    batch.add({"x", "doctor", "session.read", std::nullopt, "", nullptr}, [&](bool ok) { heard.push_back(ok); });
    run_timers();
    EXPECT_TRUE(heard.empty()) << "retried, not given up at once";
    other_->exec("ROLLBACK");
    run_timers();
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_TRUE(heard[0]);
}

}  // namespace
}  // namespace consult::store
