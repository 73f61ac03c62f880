// What the updater reads from the rauc program (update/rauc.hpp): its shell-format status
// and bundle info, quoted as g_shell_quote quotes, and its refusals on stderr.
#include "appliance/update/rauc.hpp"

#include <gtest/gtest.h>

namespace consult::update {
namespace {

// As RAUC 1.8 prints `rauc status --detailed --output-format=shell` on a box that fell back
// to slot B after A failed its tries.
constexpr std::string_view kFellBack =
    "RAUC_SYSTEM_COMPATIBLE='consult-appliance-x86_64'\n"
    "RAUC_SYSTEM_VARIANT=''\n"
    "RAUC_SYSTEM_BOOTED_BOOTNAME='b'\n"
    "RAUC_BOOT_PRIMARY='rootfs.1'\n"
    "RAUC_SYSTEM_SLOTS='rootfs.0 rootfs.1'\n"
    "RAUC_SLOTS='1 2'\n"
    "RAUC_SLOT_STATE_1='inactive'\nRAUC_SLOT_CLASS_1='rootfs'\nRAUC_SLOT_DEVICE_1='/dev/disk/by-partlabel/consult-root-a'\n"
    "RAUC_SLOT_TYPE_1='raw'\nRAUC_SLOT_BOOTNAME_1='a'\nRAUC_SLOT_PARENT_1=''\nRAUC_SLOT_MOUNTPOINT_1=''\n"
    "RAUC_SLOT_BOOT_STATUS_1='bad'\nRAUC_SLOT_STATUS_BUNDLE_VERSION_1='3.0.0'\n"
    "RAUC_SLOT_STATE_2='booted'\nRAUC_SLOT_CLASS_2='rootfs'\nRAUC_SLOT_DEVICE_2='/dev/disk/by-partlabel/consult-root-b'\n"
    "RAUC_SLOT_TYPE_2='raw'\nRAUC_SLOT_BOOTNAME_2='b'\nRAUC_SLOT_PARENT_2=''\nRAUC_SLOT_MOUNTPOINT_2='/'\n"
    "RAUC_SLOT_BOOT_STATUS_2='good'\nRAUC_SLOT_STATUS_BUNDLE_VERSION_2='2.0.0'\n";

TEST(RaucOutput, StatusNamesTheBootedSlotTheNextBootAndWhatEachSlotHolds) {
    auto st = parse_rauc_status(kFellBack);
    ASSERT_TRUE(st.has_value()) << st.error();
    EXPECT_EQ(st->compatible, "consult-appliance-x86_64");
    EXPECT_EQ(st->boot_primary, "rootfs.1");
    ASSERT_EQ(st->slots.size(), 2u);
    ASSERT_NE(st->booted(), nullptr);
    EXPECT_EQ(st->booted()->name, "rootfs.1");
    EXPECT_EQ(st->booted()->boot_status, "good");
    EXPECT_EQ(st->booted()->bundle_version, "2.0.0");
    ASSERT_NE(st->slot("rootfs.0"), nullptr);
    EXPECT_EQ(st->slot("rootfs.0")->boot_status, "bad");
    EXPECT_EQ(st->slot("rootfs.0")->bundle_version, "3.0.0");
    EXPECT_EQ(st->slot("rootfs.9"), nullptr);
}

TEST(RaucOutput, ShellQuotingIsUndoneAndOtherLinesAreLeftOut) {
    const auto vars = parse_shell_vars(
        "A='it'\\''s'\nB=bare\\ word\nlower='no'\n# comment\n=x\nC='two\nlines'\nD=''\n9X='digit first'\nE='x'");
    EXPECT_EQ(vars.at("A"), "it's");
    EXPECT_EQ(vars.at("B"), "bare word");
    EXPECT_EQ(vars.at("C"), "two\nlines");
    EXPECT_EQ(vars.at("D"), "");
    EXPECT_EQ(vars.at("E"), "x");
    const auto dq = parse_shell_vars("PRETTY_NAME=\"Debian \\\"12\\\" \\x\"\nOPEN=\"never");
    EXPECT_EQ(dq.at("PRETTY_NAME"), "Debian \"12\" \\x");
    EXPECT_FALSE(dq.contains("OPEN"));
    EXPECT_FALSE(vars.contains("lower"));
    EXPECT_FALSE(vars.contains("9X"));
    // An unclosed quote ends the reading; what came before stays.
    const auto cut = parse_shell_vars("A='1'\nB='never closed\nC='3'");
    EXPECT_EQ(cut.at("A"), "1");
    EXPECT_FALSE(cut.contains("B"));
}

TEST(RaucOutput, AStatusWithoutSlotsOrWithMismatchedListsIsAReason) {
    for (std::string_view bad : {"", "garbage", "RAUC_SYSTEM_SLOTS='rootfs.0 rootfs.1'\nRAUC_SLOTS='1'\n",
                                 "RAUC_SLOTS='1 2'\n"}) {
        auto st = parse_rauc_status(bad);
        EXPECT_FALSE(st.has_value()) << bad;
    }
    // Slots whose lines are missing are there, with nothing known about them.
    auto st = parse_rauc_status("RAUC_SYSTEM_SLOTS='rootfs.0'\nRAUC_SLOTS='1'\n");
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(st->booted(), nullptr);
}

TEST(RaucOutput, BundleInfoNeedsACompatible) {
    auto info = parse_bundle_info("RAUC_MF_COMPATIBLE='consult-appliance-x86_64'\nRAUC_MF_VERSION='2.0.0'\n");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->compatible, "consult-appliance-x86_64");
    EXPECT_EQ(info->version, "2.0.0");
    EXPECT_FALSE(parse_bundle_info("RAUC_MF_VERSION='2.0.0'\n").has_value());
}

TEST(RaucOutput, TheRefusalIsTheLastLineThatIsNotProgress) {
    EXPECT_EQ(rauc_reason("rauc-Message: 10:00: Reading bundle\nsignature verification failed: bad\nrauc-Message: done\n"),
              "signature verification failed: bad");
    EXPECT_EQ(rauc_reason(""), "rauc said nothing about why");
    EXPECT_EQ(rauc_reason("evil\x1b[2Jline\r\n"), "evil[2Jline");
    EXPECT_EQ(rauc_reason(std::string(1000, 'x')).size(), 300u);
}

TEST(RaucOutput, TheRunningVersionIsTheImagesWhenOsReleaseNamesOne) {
    EXPECT_EQ(image_version("ID=debian\nIMAGE_ID=consult-appliance\nIMAGE_VERSION=0.1.0+update2\n", "0.1.0"), "0.1.0+update2");
    EXPECT_EQ(image_version("IMAGE_VERSION=\"2.0.0\"\n", "0.1.0"), "2.0.0");
    EXPECT_EQ(image_version("ID=debian\n", "0.1.0"), "0.1.0");
    EXPECT_EQ(image_version("IMAGE_VERSION='2.0;reboot'\n", "0.1.0"), "0.1.0");
    EXPECT_EQ(image_version("", "0.1.0"), "0.1.0");
}

}  // namespace
}  // namespace consult::update
