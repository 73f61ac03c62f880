#include "pipelines/congestion.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace consult::media {
namespace {

TEST(BitrateController, StartsAtTheStartRateAndGrowsOnACleanLinkUpToTheCeiling) {
    BitrateController c({150, 2500, 1200});
    EXPECT_EQ(c.target_kbps(), 1200u);
    unsigned last = 1200;
    for (int i = 0; i < 5; ++i) {
        unsigned t = c.update({0.0, 50});
        EXPECT_GT(t, last);
        last = t;
    }
    for (int i = 0; i < 50; ++i) c.update({0.0, 50});
    EXPECT_EQ(c.target_kbps(), 2500u);
}

TEST(BitrateController, BacksOffUnderLossAndHoldsInTheMiddleBand) {
    BitrateController c({150, 2500, 1200});
    EXPECT_LT(c.update({0.3, 50}), 1200u);
    const unsigned held = c.target_kbps();
    EXPECT_EQ(c.update({0.05, 50}), held) << "2-10% loss: hold";
    EXPECT_EQ(c.update({0.0, 800}), held) << "long RTT: no growth";
}

TEST(BitrateController, GoesAudioOnlyBelowTheFloorAndReturnsAfterCleanReports) {
    BitrateController c({150, 2500, 1200});
    int reports = 0;
    while (!c.audio_only() && reports < 50) {
        c.update({0.6, 50});
        ++reports;
    }
    ASSERT_TRUE(c.audio_only());
    EXPECT_GE(c.target_kbps(), 150u) << "the encoder never goes below the floor";
    c.update({0.0, 50});
    c.update({0.0, 50});
    EXPECT_TRUE(c.audio_only()) << "two clean reports are not enough";
    reports = 0;
    while (c.audio_only() && reports < 20) {
        c.update({0.0, 50});
        ++reports;
    }
    EXPECT_FALSE(c.audio_only());
    EXPECT_LE(reports, 8) << "video comes back within a few clean reports";
}

TEST(BitrateController, OneLossyReportInAudioOnlyRestartsTheCount) {
    BitrateController c({150, 2500, 1200});
    for (int i = 0; i < 50 && !c.audio_only(); ++i) c.update({0.6, 50});
    ASSERT_TRUE(c.audio_only());
    c.update({0.0, 50});
    c.update({0.0, 50});
    c.update({0.5, 50});
    c.update({0.0, 50});
    c.update({0.0, 50});
    EXPECT_TRUE(c.audio_only()) << "the third clean report in a row has not come yet";
    c.update({0.0, 50});
    EXPECT_FALSE(c.audio_only());
}

// Receiver reports come every few seconds (RFC 3550: 5 s at least, by default), so
// the rules are per second of link a report covers, not per report.
TEST(BitrateController, AReportWeighsByTheSecondsItCovers) {
    BitrateController once({150, 2500, 1200}), often({150, 2500, 1200});
    once.update({0.3, 50, 5.0});
    for (int i = 0; i < 5; ++i) often.update({0.3, 50, 1.0});
    EXPECT_NEAR(double(once.target_kbps()), double(often.target_kbps()), 1.0);
    once.update({0.0, 50, 4.0});
    for (int i = 0; i < 4; ++i) often.update({0.0, 50, 1.0});
    EXPECT_NEAR(double(once.target_kbps()), double(often.target_kbps()), 1.0);
}

TEST(BitrateController, AReportCountsForAtMostFiveSeconds) {
    BitrateController capped({150, 2500, 1200}), five({150, 2500, 1200});
    capped.update({0.3, 50, 60.0});
    five.update({0.3, 50, 5.0});
    EXPECT_EQ(capped.target_kbps(), five.target_kbps());
    EXPECT_FALSE(capped.audio_only()) << "one report after a long silence does not end video by itself";
}

TEST(BitrateController, VideoReturnsAfterThreeCleanSecondsWhateverTheReportRate) {
    BitrateController c({150, 2500, 1200});
    for (int i = 0; i < 50 && !c.audio_only(); ++i) c.update({0.6, 50, 5.0});
    ASSERT_TRUE(c.audio_only());
    c.update({0.0, 50, 2.0});
    EXPECT_TRUE(c.audio_only()) << "two clean seconds are not enough";
    c.update({0.5, 50, 1.0});
    c.update({0.0, 50, 2.5});
    EXPECT_TRUE(c.audio_only()) << "a lossy report restarts the clean time";
    c.update({0.0, 50, 5.0});
    EXPECT_FALSE(c.audio_only()) << "one clean report of 5 s is three clean seconds and more";
}

// A compound RTCP packet: an SR with two report blocks, an SDES, an RR with one.
std::vector<std::uint8_t> compound() {
    std::vector<std::uint8_t> p;
    auto u32 = [&](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) p.push_back(std::uint8_t(v >> s));
    };
    auto block = [&](std::uint32_t ssrc, std::int32_t lost, std::uint32_t seq) {
        u32(ssrc);
        u32(std::uint32_t(0x40) << 24 | (std::uint32_t(lost) & 0xffffff));   // fraction 0x40, cumulative lost
        u32(seq);
        u32(90);                                                               // jitter
        u32(0);
        u32(0);
    };
    u32(0x82c80012);   // V=2 RC=2 SR, 19 words
    u32(0xaaaa);       // sender
    for (int i = 0; i < 5; ++i) u32(0);
    block(0x1111, 12, 70000);
    block(0x2222, -3, 500);
    u32(0x81ca0002);   // SDES, 3 words
    u32(0xaaaa);
    u32(0);
    u32(0x81c90007);   // V=2 RC=1 RR, 8 words
    u32(0xbbbb);
    block(0x1111, 20, 70100);
    return p;
}

TEST(ReportBlocks, ReadsEverySrAndRrBlockOfACompoundPacket) {
    const auto p = compound();
    const auto blocks = report_blocks(p);
    ASSERT_EQ(blocks.size(), 3u);
    EXPECT_EQ(blocks[0].ssrc, 0x1111u);
    EXPECT_EQ(blocks[0].cumulative_lost, 12);
    EXPECT_EQ(blocks[0].ext_highest_seq, 70000u);
    EXPECT_EQ(blocks[0].jitter, 90u);
    EXPECT_EQ(blocks[1].ssrc, 0x2222u);
    EXPECT_EQ(blocks[1].cumulative_lost, -3) << "24-bit two's complement";
    EXPECT_EQ(blocks[2].ssrc, 0x1111u);
    EXPECT_EQ(blocks[2].ext_highest_seq, 70100u);
}

TEST(ReportBlocks, StopsAtATruncatedOrForeignPacket) {
    auto p = compound();
    ASSERT_GE(p.size(), 4u);
    p.erase(p.end() - 4, p.end());   // the RR's last word is missing
    EXPECT_EQ(report_blocks(p).size(), 2u);
    const std::vector<std::uint8_t> junk{0x00, 0xc9, 0x00, 0x07, 1, 2, 3, 4};
    EXPECT_TRUE(report_blocks(junk).empty());
}

StreamReport report(std::uint32_t ssrc, std::uint32_t seq, std::int32_t lost, double at_s, bool counted = true) {
    return {{ssrc, seq, lost, 0}, std::int64_t(at_s * 1e6), counted};
}

TEST(LossMeter, CountsLossFromTheCumulativeCountersOfNewReports) {
    LossMeter m;
    const StreamReport first[] = {report(1, 1000, 10, 0)};
    EXPECT_FALSE(m.update(first)) << "the first report only sets the baseline";
    const StreamReport next[] = {report(1, 1200, 70, 5)};
    auto s = m.update(next);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.3);
    EXPECT_DOUBLE_EQ(s->interval_s, 5.0);
    EXPECT_EQ(s->expected, 200u);
    EXPECT_FALSE(m.update(next)) << "the same report again is not news";
    const StreamReport dup[] = {report(1, 1300, 60, 10)};
    s = m.update(dup);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.0) << "duplicates do not make negative loss";
}

TEST(LossMeter, PoolsTheStreamsWithNewReports) {
    LossMeter m;
    const StreamReport base[] = {report(1, 100, 0, 0), report(2, 100, 0, 0)};
    m.update(base);
    const StreamReport next[] = {report(1, 400, 60, 5), report(2, 200, 40, 5)};
    auto s = m.update(next);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.25);
    const StreamReport only_audio[] = {report(1, 400, 60, 5), report(2, 300, 40, 10)};
    s = m.update(only_audio);
    ASSERT_TRUE(s) << "one stream's new report is enough";
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.0);
}

TEST(LossMeter, AStreamNotSentOnlyMovesItsBaseline) {
    LossMeter m;
    const StreamReport base[] = {report(1, 100, 0, 0), report(2, 100, 0, 0)};
    m.update(base);
    // Video (2) stopped: what it lost on the way out is not the link's state later.
    const StreamReport stopped[] = {report(1, 200, 0, 5), report(2, 150, 40, 5, false)};
    auto s = m.update(stopped);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.0);
    const StreamReport back[] = {report(1, 300, 0, 10), report(2, 250, 40, 10)};
    s = m.update(back);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.0) << "only what was sent since it came back counts";
    const StreamReport alone[] = {report(2, 300, 40, 12, false)};
    EXPECT_FALSE(m.update(alone)) << "no counted stream, no sample";
}

TEST(LossMeter, ACountThatGoesBackStartsOver) {
    LossMeter m;
    const StreamReport base[] = {report(1, 5000, 100, 0)};
    m.update(base);
    const StreamReport restarted[] = {report(1, 10, 0, 5)};
    EXPECT_FALSE(m.update(restarted));
    const StreamReport next[] = {report(1, 110, 10, 10)};
    auto s = m.update(next);
    ASSERT_TRUE(s);
    EXPECT_DOUBLE_EQ(s->fraction_lost, 0.1);
}

}  // namespace
}  // namespace consult::media
