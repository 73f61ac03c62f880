#include "appliance/cloud/outbox.hpp"

#include <gtest/gtest.h>

namespace consult::cloud {
namespace {

OutboxEntry entry(std::int64_t seq, const std::string& table, const std::string& id, nlohmann::json payload) {
    payload["id"] = id;
    return {seq, table, id, payload, 0};
}

TEST(PlanBatches, ParentsGoFirstAndEachRowOnceWithItsNewestState) {
    std::vector<OutboxEntry> e = {
        entry(1, "video_consultation_sessions", "s1", {{"status", "scheduled"}}),
        entry(2, "video_consultation_participants", "p1", {{"session_id", "s1"}}),
        entry(3, "video_consultation_sessions", "s1", {{"status", "waiting"}}),
        entry(4, "appointments", "a1", {{"status", "no-show"}}),
    };
    auto b = plan_batches(e, 500);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].table, "appointments");
    EXPECT_EQ(b[1].table, "video_consultation_sessions");
    ASSERT_EQ(b[1].rows.size(), 1u);
    EXPECT_EQ(b[1].rows[0]["status"], "waiting");
    EXPECT_EQ(b[1].seqs, (std::vector<std::int64_t>{1, 3}));
    EXPECT_EQ(b[2].table, "video_consultation_participants");
}

TEST(PlanBatches, RowsOfDifferentShapeGoInDifferentRequests) {
    // PostgREST refuses an array whose objects have different keys (PGRST102).
    std::vector<OutboxEntry> e = {
        entry(1, "appointments", "a1", {{"status", "no-show"}, {"updated_at", "t"}}),
        entry(2, "appointments", "a2", {{"status", "scheduled"}, {"starts_at", "t"}, {"updated_at", "t"}}),
    };
    auto b = plan_batches(e, 500);
    ASSERT_EQ(b.size(), 2u);
    for (const auto& batch : b) EXPECT_EQ(batch.rows.size(), 1u);
}

TEST(PlanBatches, ARowThatChangesShapeWaitsSoItsChangesStayInOrder) {
    std::vector<OutboxEntry> e = {
        entry(1, "appointments", "a1", {{"status", "scheduled"}, {"starts_at", "t"}}),
        entry(2, "appointments", "a1", {{"status", "no-show"}}),
    };
    auto b = plan_batches(e, 500);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].seqs, (std::vector<std::int64_t>{1}));
}

TEST(PlanBatches, DeletionsAreTheirOwnRequestsAndBatchesRespectTheSizeLimit) {
    std::vector<OutboxEntry> e;
    for (int i = 0; i < 5; ++i) e.push_back(entry(i + 1, "video_consultation_sessions", "s" + std::to_string(i), {{"status", "scheduled"}}));
    e.push_back({6, "video_consultation_timings", "t1", {{"id", "t1"}, {"deleted", true}}, 0});
    auto b = plan_batches(e, 2);
    ASSERT_EQ(b.size(), 4u);
    EXPECT_TRUE(b[0].is_delete);   // timings rank before sessions
    EXPECT_EQ(b[0].rows[0], nlohmann::json({{"id", "t1"}}));
    EXPECT_EQ(b[1].rows.size(), 2u);
    EXPECT_EQ(b[3].rows.size(), 1u);
}

}  // namespace
}  // namespace consult::cloud
