#include "pipelines/congestion.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace consult::media
