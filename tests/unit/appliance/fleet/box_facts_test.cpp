#include "appliance/fleet/box_facts.hpp"

#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace consult::fleet {
namespace {

TEST(BoxFacts, TheBootedSlotIsTheKernelCommandLinesRaucSlot) {
    EXPECT_EQ(booted_slot("BOOT_IMAGE=/vmlinuz root=PARTLABEL=root-a ro rauc.slot=a quiet\n"), 'a');
    EXPECT_EQ(booted_slot("rauc.slot=b"), 'b');
    EXPECT_EQ(booted_slot("rauc.slot=b rauc.slot=b"), 'b');
}

TEST(BoxFacts, NoSlotWhenTheCommandLineNamesNoneAnotherOrTwo) {
    EXPECT_EQ(booted_slot(""), std::nullopt);
    EXPECT_EQ(booted_slot("root=/dev/sda1 ro quiet"), std::nullopt);                 // not an A/B box
    EXPECT_EQ(booted_slot("rauc.slot=c"), std::nullopt);
    EXPECT_EQ(booted_slot("rauc.slot=A"), std::nullopt);
    EXPECT_EQ(booted_slot("rauc.slot="), std::nullopt);
    EXPECT_EQ(booted_slot("rauc.slot=ab"), std::nullopt);
    EXPECT_EQ(booted_slot("rauc.slot=a rauc.slot=b"), std::nullopt);                 // two answers
    EXPECT_EQ(booted_slot("xrauc.slot=a"), std::nullopt);
    EXPECT_EQ(booted_slot(std::string("rauc.slot=a\0b", 13)), std::nullopt);
    EXPECT_EQ(booted_slot(std::string(100000, 'x') + " rauc.slot=b"), 'b');
}

TEST(BoxFacts, ABootIdIsTheKernelsShapeOrNothing) {
    EXPECT_EQ(boot_id("0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3c\n"), "0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3c");
    EXPECT_EQ(boot_id(""), std::nullopt);
    EXPECT_EQ(boot_id("0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3"), std::nullopt);
    EXPECT_EQ(boot_id("0f6b6a3e-5c1d-4b1a-9d36-0c1e1f0a2b3z"), std::nullopt);
    EXPECT_EQ(boot_id("0f6b6a3e05c1d-4b1a-9d36-0c1e1f0a2b3c"), std::nullopt);
}

TEST(BoxFacts, UptimeIsTheFirstNumberInWholeSeconds) {
    EXPECT_EQ(uptime_seconds("12345.67 54321.00\n"), 12345);
    EXPECT_EQ(uptime_seconds("7"), 7);
    EXPECT_EQ(uptime_seconds(""), std::nullopt);
    EXPECT_EQ(uptime_seconds("-5.0 1.0"), std::nullopt);
    EXPECT_EQ(uptime_seconds("abc"), std::nullopt);
    EXPECT_EQ(uptime_seconds("12x.5"), std::nullopt);
    EXPECT_EQ(uptime_seconds("99999999999999999999999.0"), std::nullopt);
}

TEST(BoxFacts, SmallFilesAreReadUpToTheirCapAndAMissingOneIsNothing) {
    test::TempDir dir;
    std::ofstream(dir / "big") << std::string(5000, 'x');
    EXPECT_EQ(read_small_file(dir / "big", 4096)->size(), 4096u);
    EXPECT_EQ(read_small_file(dir / "missing"), std::nullopt);
    EXPECT_EQ(read_small_file(dir.path()), std::nullopt);   // a folder is not a file
}

}  // namespace
}  // namespace consult::fleet
