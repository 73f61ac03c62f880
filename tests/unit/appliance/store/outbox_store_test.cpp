#include "appliance/store/outbox_store.hpp"

#include "appliance/store/migrations.hpp"
#include "appliance/store/records.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <optional>

namespace consult::store {
namespace {

class OutboxStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        db_.emplace(Database::open(dir_ / "consult.db"));
        migrate(*db_);
    }
    test::TempDir dir_;
    std::optional<Database> db_;
};

TEST_F(OutboxStoreTest, AReplacedRowKeepsOnlyItsNewestStateWaitingParkedOnesIncluded) {
    OutboxStore o(*db_);
    o.replace("consult_device_status", "box-1", {{"device_id", "box-1"}, {"uptime_seconds", 1}});
    o.park(o.pending(10).at(0).seq, "HTTP 400 23514: check");
    o.replace("consult_device_status", "box-1", {{"device_id", "box-1"}, {"uptime_seconds", 2}});
    o.replace("consult_device_status", "box-1", {{"device_id", "box-1"}, {"uptime_seconds", 3}});
    enqueue_outbox(*db_, "video_consultation_sessions", "s1", {{"id", "s1"}});
    o.replace("consult_device_status", "box-2", {{"device_id", "box-2"}, {"uptime_seconds", 9}});
    auto p = o.pending(10);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].payload["uptime_seconds"], 3);
    EXPECT_EQ(p[1].row_id, "s1");   // other rows untouched
    EXPECT_EQ(p[2].row_id, "box-2");
    EXPECT_EQ(o.parked(), 0);
}

TEST_F(OutboxStoreTest, DeliveredRowsLeaveParkedRowsStayAndAreNotPending) {
    for (int i = 0; i < 3; ++i)
        enqueue_outbox(*db_, "video_consultation_sessions", "s" + std::to_string(i), {{"id", "s" + std::to_string(i)}});
    OutboxStore o(*db_);
    auto p = o.pending(10);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_TRUE(o.has_pending("video_consultation_sessions", "s1"));
    o.delivered({p[0].seq});
    o.park(p[1].seq, "HTTP 400 23514: check");
    o.failed({p[2].seq}, "HTTP 503", "2030-01-01T00:00:00.000Z");
    EXPECT_EQ(o.depth(), 1);
    EXPECT_EQ(o.parked(), 1);
    EXPECT_FALSE(o.has_pending("video_consultation_sessions", "s1"));
    auto left = o.pending(10);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].row_id, "s2");
    EXPECT_EQ(left[0].attempts, 1);
}

}  // namespace
}  // namespace consult::store
