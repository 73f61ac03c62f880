// The USB-stick update's two files and root's search for a stick (update/stick.hpp): names
// a kiosk may send, each side's file read as outside input, and the disks offered as a stick
// out of a made-up /sys/block.
#include "appliance/update/stick.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace consult::update {
namespace {

namespace fs = std::filesystem;

class StickTree : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/stick-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        root_ = tmpl;
    }
    void TearDown() override { fs::remove_all(root_); }
    void put(const fs::path& rel, const std::string& text) {
        fs::create_directories((root_ / rel).parent_path());
        std::ofstream(root_ / rel) << text;
    }
    // A disk under sys/block: `usb` puts its device path under a USB controller, as sysfs does.
    void disk(const std::string& name, const std::string& removable, std::vector<std::string> parts, bool usb = false) {
        const fs::path dev = root_ / "devices" / (usb ? "pci0000:00/usb2/2-1/host6/block" : "pci0000:00/ata1/block") / name;
        fs::create_directories(dev / "holders");
        std::ofstream(dev / "removable") << removable << "\n";
        std::ofstream(dev / "size") << "30031872\n";
        for (const auto& p : parts) {
            fs::create_directories(dev / p / "holders");
            std::ofstream(dev / p / "partition") << "1\n";
        }
        fs::create_directories(root_ / "block");
        fs::create_symlink(dev, root_ / "block" / name);
    }
    fs::path root_;
};

TEST(StickNames, OnlyPlainBundleNamesAtTheTopLevel) {
    for (const char* good : {"consult-appliance-1.2.0.raucb", "a.raucb", "v2+update_2.raucb", "UPDATE.raucb"})
        EXPECT_TRUE(valid_bundle_name(good)) << good;
    for (const char* bad : {"", ".raucb", "../x.raucb", "dir/x.raucb", ".hidden.raucb", "-rf.raucb", "x.raucb.txt", "x.RAUCB",
                            "a b.raucb", "x\n.raucb", "x;reboot.raucb", "x$(id).raucb"})
        EXPECT_FALSE(valid_bundle_name(bad)) << bad;
    EXPECT_FALSE(valid_bundle_name(std::string(95, 'a') + ".raucb"));
    EXPECT_TRUE(valid_bundle_name(std::string(94, 'a') + ".raucb"));
}

TEST(StickFiles, ARequestRoundTripsAndAnythingElseIsRefused) {
    StickRequest r{StickRequest::Action::Install, "0123456789abcdef", "consult-appliance-2.0.0.raucb", "2026-12-03T04:00:00Z"};
    auto back = stick_request_from_json(to_json(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->file, r.file);
    EXPECT_EQ(back->action, StickRequest::Action::Install);
    for (const auto& bad : {nlohmann::json::array(), nlohmann::json{{"id", "0123456789ABCDEF"}, {"action", "look"}},
                            nlohmann::json{{"id", "0123456789abcdef"}, {"action", "format"}},
                            nlohmann::json{{"id", "0123456789abcdef"}, {"action", "install"}, {"file", "../x.raucb"}},
                            nlohmann::json{{"id", "0123456789abcdef"}, {"action", "install"}},
                            nlohmann::json{{"id", 7}, {"action", "look"}},
                            nlohmann::json{{"id", "0123456789abcdef"}, {"action", "look"}, {"at", std::string(700, 'x')}}})
        EXPECT_FALSE(stick_request_from_json(bad)) << bad.dump();
}

TEST(StickFiles, ARootResultRoundTripsAndAHostileOneIsRefused) {
    StickResult r;
    r.id = "0123456789abcdef";
    r.state = StickResult::State::Found;
    r.message = "1 update on the USB stick, 1 that this box can install.";
    r.bundles = {{"consult-appliance-2.0.0.raucb", 1234, "2.0.0", ""}};
    auto back = stick_result_from_json(to_json(r));
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->bundles.size(), 1u);
    EXPECT_EQ(back->bundles[0].size_bytes, 1234u);
    EXPECT_TRUE(back->final());
    auto j = to_json(r);
    j["state"] = "rebooting";
    EXPECT_FALSE(stick_result_from_json(j));
    j = to_json(r);
    j["message"] = "line\u001b[2Jcleared";
    EXPECT_FALSE(stick_result_from_json(j)) << "control characters never reach the screen";
    j = to_json(r);
    j["bundles"][0]["name"] = "../../x.raucb";
    EXPECT_FALSE(stick_result_from_json(j));
    j = to_json(r);
    j["bundles"][0]["size_bytes"] = -1;
    EXPECT_FALSE(stick_result_from_json(j));
    j = to_json(r);
    j["bundles"] = nlohmann::json::array();
    for (int i = 0; i < 21; ++i) j["bundles"].push_back(to_json(r)["bundles"][0]);
    EXPECT_FALSE(stick_result_from_json(j)) << "at most 20";
}

TEST_F(StickTree, FilesAreReadNeverThroughALinkAndWrittenWhole) {
    put("target", "secret");
    fs::create_symlink(root_ / "target", root_ / "request");
    EXPECT_FALSE(read_stick_file(root_ / "request"));
    auto none = read_stick_file(root_ / "absent");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    put("big", std::string(kMaxStickFileBytes + 1, 'x'));
    EXPECT_FALSE(read_stick_file(root_ / "big"));
    fs::create_directories(root_ / "folder");
    EXPECT_FALSE(read_stick_file(root_ / "folder"));

    // Writing over a link replaces the link, never what it points at.
    fs::create_symlink(root_ / "target", root_ / "result");
    ASSERT_TRUE(write_whole_file(root_ / "result", "{}\n", 0644));
    EXPECT_FALSE(fs::is_symlink(root_ / "result"));
    auto got = read_stick_file(root_ / "result");
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, "{}\n");
    std::ifstream target(root_ / "target");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(target), {}), "secret");
}

TEST_F(StickTree, OnlyRemovableOrUsbDisksNotInUseAreOfferedAsSticks) {
    disk("nvme0n1", "0", {"nvme0n1p1", "nvme0n1p2"});     // the box's own disk
    disk("sda", "1", {"sda1", "sda2"});                   // a removable stick with two partitions
    disk("sdb", "0", {}, true);                           // a USB disk formatted without partitions
    disk("sdc", "1", {"sdc1"}, true);                     // the USB disk the box booted from
    disk("loop0", "0", {});
    disk("sdd", "1", {"sdd1"});                           // a stick whose partition is unlocked (dm)
    std::ofstream(root_ / "block" / "sdd" / "sdd1" / "holders" / "dm-1") << "";
    const std::string mounts = "/dev/nvme0n1p2 / erofs ro 0 0\n/dev/sdc1 /efi vfat rw 0 0\ntmpfs /run tmpfs rw 0 0\n";
    EXPECT_EQ(stick_partitions(root_ / "block", mounts), (std::vector<std::string>{"/dev/sda1", "/dev/sda2", "/dev/sdb"}));
    EXPECT_TRUE(stick_partitions(root_ / "absent", mounts).empty());
}

TEST_F(StickTree, TheBundlesAtAStickTopLevelInNameOrderAtMostTwenty) {
    put("stick/b.raucb", "x");
    put("stick/a.raucb", "xy");
    put("stick/notes.txt", "x");
    put("stick/sub/c.raucb", "x");
    fs::create_directories(root_ / "stick" / "d.raucb");
    fs::create_symlink("/etc/passwd", root_ / "stick" / "e.raucb");
    auto list = bundles_on_stick(root_ / "stick");
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].name, "a.raucb");
    EXPECT_EQ(list[0].size_bytes, 2u);
    EXPECT_EQ(list[1].name, "b.raucb");
    for (int i = 0; i < 30; ++i) put("stick/many-" + std::to_string(100 + i) + ".raucb", "x");
    EXPECT_EQ(bundles_on_stick(root_ / "stick").size(), kMaxStickBundles);
    EXPECT_TRUE(bundles_on_stick(root_ / "absent").empty());
}

}  // namespace
}  // namespace consult::update
