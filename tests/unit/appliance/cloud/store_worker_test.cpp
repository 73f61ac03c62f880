#include "appliance/cloud/store_worker.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/records.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace consult::cloud {
namespace {

bool iterate_until(const std::function<bool()>& done) {
    const gint64 limit = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!done() && g_get_monotonic_time() < limit) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
    return done();
}

class Worker : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(store::Database::open(dir_ / "consult.db"));
        store::migrate(*db_);
    }
    std::int64_t outbox_rows() {
        auto st = db_->prepare("SELECT count(*) FROM outbox");
        st.step();
        return st.integer(0);
    }
    test::TempDir dir_;
    std::optional<store::Database> db_;
};

TEST_F(Worker, JobsRunInOrderOnAnotherThreadAndResultsComeBackOnTheContext) {
    StoreWorker w(dir_ / "consult.db", nullptr);
    std::vector<int> order;
    std::thread::id job_thread, done_thread;
    for (int i = 0; i < 3; ++i)
        w.post([i, &job_thread](store::Database& db) {
                   job_thread = std::this_thread::get_id();
                   store::enqueue_outbox(db, "video_consultation_sessions", "s" + std::to_string(i), {{"id", i}});
               },
               [i, &order, &done_thread](const std::string& error) {
                   EXPECT_EQ(error, "");
                   done_thread = std::this_thread::get_id();
                   order.push_back(i);
               });
    ASSERT_TRUE(iterate_until([&] { return order.size() == 3; }));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_NE(job_thread, std::this_thread::get_id());
    EXPECT_EQ(done_thread, std::this_thread::get_id());
    EXPECT_EQ(outbox_rows(), 3);   // committed: visible on the main connection
}

TEST_F(Worker, AFailingJobReportsItsError) {
    StoreWorker w(dir_ / "consult.db", nullptr);
    std::optional<std::string> got;
    w.post([](store::Database& db) { db.exec("INSERT INTO no_such_table VALUES (1)"); },
           [&](const std::string& error) { got = error; });
    ASSERT_TRUE(iterate_until([&] { return got.has_value(); }));
    EXPECT_NE(got->find("no_such_table"), std::string::npos);
}

TEST_F(Worker, DestroyingItFinishesQueuedWritesButDropsTheirResults) {
    bool called = false;
    {
        StoreWorker w(dir_ / "consult.db", nullptr);
        for (int i = 0; i < 20; ++i)
            w.post([i](store::Database& db) {
                       store::enqueue_outbox(db, "video_consultation_sessions", "s" + std::to_string(i), {{"id", i}});
                   },
                   [&](const std::string&) { called = true; });
    }
    for (int i = 0; i < 50; ++i) g_main_context_iteration(nullptr, FALSE);
    EXPECT_FALSE(called);
    EXPECT_EQ(outbox_rows(), 20);
}

}  // namespace
}  // namespace consult::cloud
