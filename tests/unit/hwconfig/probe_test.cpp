#include "hwconfig/probe.hpp"

#include <gtest/gtest.h>

namespace consult::hw {
namespace {

TEST(Probe, ASoftwareEncoderReallyEncodesFrames) {
    ASSERT_TRUE(registry_has("vp8enc")) << "gstreamer1.0-plugins-good is required for the tests";
    auto status = probe_encoder(*find_encoder("vp8enc"));
    EXPECT_TRUE(status.usable) << status.reason;
    EXPECT_NE(status.reason.find("encoded"), std::string::npos);
}

TEST(Probe, AnEncoderThatCannotStartIsNotUsable) {
    // A row whose element the registry does not have: probed anyway, it must fail cleanly.
    EncoderRow ghost = *find_encoder("x264enc");
    ghost.factory = "nosuchencoder";
    auto status = probe_encoder(ghost);
    EXPECT_FALSE(status.usable);
    EXPECT_FALSE(status.reason.empty());
}

TEST(Probe, WholeProbeChoosesAWorkingEncoderAndTestSourcesHere) {
    auto r = probe(ProbeSettings{});
    ASSERT_NE(r.encoder, nullptr);
    EXPECT_FALSE(r.encoder->hardware) << "this machine has no GPU";
    for (const auto& e : r.encoders)
        if (e.row == r.encoder) { EXPECT_TRUE(e.usable); }
    EXPECT_TRUE(r.missing.empty()) << r.missing.front().element;
    EXPECT_EQ(r.content.name, "none");
}

TEST(Probe, PinnedEncoderIsHonoured) {
    ProbeSettings s;
    s.encoder = "vp8enc";
    auto r = probe(s);
    ASSERT_NE(r.encoder, nullptr);
    EXPECT_EQ(r.encoder->factory, "vp8enc");
    EXPECT_EQ(r.encoders.size(), 1u);
}

}  // namespace
}  // namespace consult::hw
