// The updater's memory (update/state.hpp): the install waiting for its restart settled as
// installed or rolled back, and the state file read as outside input.
#include "appliance/update/state.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace consult::update {
namespace {

UpdateState waiting_for(const std::string& version) {
    UpdateState s;
    s.pending = PendingInstall{version, "1.0.0", "boot-1"};
    return s;
}

TEST(UpdaterState, TheNewVersionRunningAfterTheRestartIsInstalled) {
    UpdateState s = waiting_for("2.0.0");
    auto a = settle_pending(s, "2.0.0", "boot-2", "t");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->result, Result::Installed);
    EXPECT_EQ(a->version, "2.0.0");
    EXPECT_FALSE(s.pending.has_value());
    EXPECT_EQ(s.last, a);
    EXPECT_TRUE(s.rolled_back.empty());
}

TEST(UpdaterState, TheOldVersionInANewBootIsARollbackRememberedForGood) {
    UpdateState s = waiting_for("2.0.0");
    auto a = settle_pending(s, "1.0.0", "boot-2", "t");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->result, Result::RolledBack);
    EXPECT_NE(a->reason.find("back on 1.0.0"), std::string::npos);
    EXPECT_TRUE(s.rolled_back.contains("2.0.0"));
    EXPECT_FALSE(s.pending.has_value());
    EXPECT_TRUE(std::holds_alternative<SkipRolledBack>(
        decide("1.0.0", Release{"2.0.0", "https://x/b", std::string(64, 'a'), 1, "stable"}, s.memory())));
}

TEST(UpdaterState, InTheSameBootItStillWaits) {
    UpdateState s = waiting_for("2.0.0");
    EXPECT_FALSE(settle_pending(s, "1.0.0", "boot-1", "t").has_value());
    EXPECT_TRUE(s.pending.has_value());
    EXPECT_EQ(s.memory().pending, "2.0.0");
    UpdateState none;
    EXPECT_FALSE(settle_pending(none, "1.0.0", "boot-2", "t").has_value());
}

TEST(UpdaterState, RoundTripsThroughItsFile) {
    UpdateState s = waiting_for("2.0.0");
    s.rolled_back = {"1.9.0", "3.0.0-rc1"};
    s.last = Attempt{"2026-12-02T22:00:00.000Z", "2.0.0", Result::Installed, "installed into the other slot"};
    const auto dir = std::filesystem::temp_directory_path() / ("consult-update-state-" + std::to_string(::getpid()));
    const auto file = state_file(dir);
    ASSERT_TRUE(save_state(file, s).has_value());
    auto back = load_state(file);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_EQ(*back, s);
    EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));
    std::filesystem::remove_all(dir);
    auto missing = load_state(file);
    ASSERT_TRUE(missing.has_value());
    EXPECT_EQ(*missing, UpdateState{});
}

TEST(UpdaterState, AFileThatIsNotTheUpdatersIsRefusedWithTheReason) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"[]", "not a JSON object"},
        {R"({"pending": 7})", "pending is not an object"},
        {R"({"pending": {"version": "2.0;reboot"}})", "pending.version"},
        {R"({"pending": {"version": "2.0.0", "boot_id": 5}})", "pending.boot_id"},
        {R"({"rolled_back": "2.0.0"})", "rolled_back"},
        {R"({"rolled_back": ["../../etc"]})", "rolled_back"},
        {R"({"last": {"result": "exploded"}})", "last.result"},
        {R"({"last": {"result": "installed", "reason": ")" + std::string(600, 'x') + R"("}})", "last.reason"},
    };
    for (const auto& [text, why] : cases) {
        auto s = state_from_json(nlohmann::json::parse(text));
        ASSERT_FALSE(s.has_value()) << text;
        EXPECT_NE(s.error().find(why), std::string::npos) << text << ": " << s.error();
    }
    EXPECT_TRUE(state_from_json(nlohmann::json::parse(R"({"pending": null, "last": null})")).has_value());
}

}  // namespace
}  // namespace consult::update
