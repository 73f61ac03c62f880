#include "appliance/http/connection_table.hpp"

#include <gtest/gtest.h>

namespace consult::http {
namespace {

using namespace std::chrono_literals;
using Phase = ConnectionTable::Phase;
using Verdict = ConnectionTable::Verdict;

ConnectionTable::Limits small() {
    ConnectionTable::Limits l;
    l.max_total = 3;
    l.max_per_address = 2;
    return l;
}

TEST(ConnectionTable, AnAddressGetsItsShareAndNoMore) {
    ConnectionTable t(small());
    const auto now = ConnectionTable::Clock::now();
    EXPECT_EQ(t.admit(1, "10.0.0.1", now).verdict, Verdict::Admitted);
    EXPECT_EQ(t.admit(2, "10.0.0.1", now).verdict, Verdict::Admitted);
    EXPECT_EQ(t.admit(3, "10.0.0.1", now).verdict, Verdict::AddressFull);
    EXPECT_EQ(t.admit(4, "10.0.0.2", now).verdict, Verdict::Admitted);
    t.closed(1);
    EXPECT_EQ(t.admit(5, "10.0.0.1", now).verdict, Verdict::Admitted);
    EXPECT_EQ(t.open_from("10.0.0.1"), 2u);
}

TEST(ConnectionTable, AFullServerGivesUpTheLongestWaitingIdleConnectionForANewOne) {
    ConnectionTable t(small());
    const auto t0 = ConnectionTable::Clock::now();
    t.admit(1, "a", t0);
    t.admit(2, "b", t0 + 1s);
    t.admit(3, "c", t0 + 2s);
    t.set_phase(1, Phase::Handling, t0 + 3s);   // busy: kept
    auto in = t.admit(4, "d", t0 + 4s);
    EXPECT_EQ(in.verdict, Verdict::Admitted);
    ASSERT_TRUE(in.evict.has_value());
    EXPECT_EQ(*in.evict, 2u);
    EXPECT_EQ(t.open(), 3u);
    EXPECT_FALSE(t.phase_of(2).has_value());
}

TEST(ConnectionTable, AServerFullOfWorkRefusesANewConnection) {
    ConnectionTable t(small());
    const auto now = ConnectionTable::Clock::now();
    for (ConnectionTable::Id id = 1; id <= 3; ++id) {
        t.admit(id, "a" + std::to_string(id), now);
        t.set_phase(id, id == 3 ? Phase::Upgraded : Phase::Body, now);
    }
    auto in = t.admit(9, "z", now);
    EXPECT_EQ(in.verdict, Verdict::ServerFull);
    EXPECT_FALSE(in.evict.has_value());
}

TEST(ConnectionTable, EachPhaseHasItsDeadlineAndWorkAndWebSocketsHaveNone) {
    ConnectionTable t(ConnectionTable::Limits{});
    const auto t0 = ConnectionTable::Clock::now();
    t.admit(1, "a", t0);                                    // waiting: 10 s
    t.admit(2, "a", t0);
    t.set_phase(2, Phase::Headers, t0 + 5s);               // headers: 10 s from their first byte
    t.admit(3, "a", t0);
    t.set_phase(3, Phase::Body, t0);                       // body: 30 s
    t.admit(4, "a", t0);
    t.set_phase(4, Phase::Handling, t0);
    t.admit(5, "a", t0);
    t.set_phase(5, Phase::Upgraded, t0);
    t.admit(6, "a", t0);
    t.set_phase(6, Phase::Idle, t0);                       // keep-alive: 30 s
    EXPECT_TRUE(t.overdue(t0 + 9s).empty());
    EXPECT_EQ(t.overdue(t0 + 10s), std::vector<ConnectionTable::Id>{1});
    EXPECT_EQ(t.overdue(t0 + 15s), (std::vector<ConnectionTable::Id>{1, 2}));
    EXPECT_EQ(t.overdue(t0 + 1h), (std::vector<ConnectionTable::Id>{1, 2, 3, 6}));
}

TEST(ConnectionTable, ASlowHeaderDoesNotRestartItsClockAndClosingForgetsTheConnection) {
    ConnectionTable t(ConnectionTable::Limits{});
    const auto t0 = ConnectionTable::Clock::now();
    t.admit(1, "a", t0);
    t.set_phase(1, Phase::Headers, t0 + 1s);
    t.set_phase(1, Phase::Headers, t0 + 9s);   // another byte: same phase, same deadline
    EXPECT_EQ(t.overdue(t0 + 11s).size(), 1u);
    t.closed(1);
    t.closed(1);
    EXPECT_EQ(t.open(), 0u);
    EXPECT_EQ(t.open_from("a"), 0u);
    EXPECT_TRUE(t.overdue(t0 + 1h).empty());
}

}  // namespace
}  // namespace consult::http
