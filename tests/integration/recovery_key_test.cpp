// The data partition's recovery key over real HTTP (consultd --demo): first boot leaves
// it in <state-dir>/recovery-key; the kiosk's admin reads it, proves it was written down
// by typing its last group, and then it is overwritten and gone from the box for good.
// Hostile files (a link, junk, a huge file) are refused without being shown.
#include "api_fixture.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>

namespace consult::test::api {
namespace {

const std::string kKey = "/api/system/recovery-key";
const std::string kStatus = "/api/system/recovery-key/status";
const std::string kConfirm = "/api/system/recovery-key/confirm";
const std::string kRecovery = "fhkvrnjc-ibdrecjl-tlddnhje-ectnuuul-bcvhrkgn-hlbrunlk-jtvkuvbd-htvdeghv";

class RecoveryKey : public ApiTest {
protected:
    fs::path file() { return api.proc().state_dir() / "recovery-key"; }
    void write_key(const std::string& text) {
        write_text(file(), text);
        ::chmod(file().c_str(), 0600);
    }
    std::size_t audits(const std::string& action) {
        return api.query_rows("SELECT id FROM audit_log WHERE action = '" + action + "'").size();
    }
    static void write_text(const fs::path& p, const std::string& text) {
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    }
};

TEST_F(RecoveryKey, ShownToTheAdminUntilWrittenDownThenGoneForGood) {
    EXPECT_EQ(api.call("GET", kStatus, api.admin).body["state"], "none");
    EXPECT_TRUE(is_error(api.call("GET", kKey, api.admin), 404, "no_recovery_key"));
    write_key(kRecovery + "\n");

    EXPECT_EQ(api.call("GET", kStatus, api.admin).body["state"], "pending");
    auto r = api.call("GET", kKey, api.admin);
    ASSERT_EQ(r.status, 200) << r.text();
    EXPECT_EQ(r.body["key"], kRecovery);
    ASSERT_EQ(r.body["groups"].size(), 8u);
    EXPECT_EQ(r.body["groups"][7], "htvdeghv");
    EXPECT_EQ(r.raw.header("cache-control").value_or(""), "no-store");
    EXPECT_EQ(audits("recovery_key.shown"), 1u);

    // A wrong last group keeps it, and says so.
    EXPECT_TRUE(is_error(api.call("POST", kConfirm, api.admin, {{"last_group", "htvdeghc"}}), 422,
                         "recovery_key_mismatch", "last_group"));
    EXPECT_TRUE(fs::exists(file()));
    EXPECT_EQ(audits("recovery_key.confirm_refused"), 1u);
    EXPECT_TRUE(is_error(api.call("POST", kConfirm, api.admin, json::object()), 400, "missing_field", "last_group"));

    // Typed as a person copies it from paper: upper case, spaces, a dash.
    r = api.call("POST", kConfirm, api.admin, {{"last_group", " HTVD-eghv "}});
    ASSERT_EQ(r.status, 204) << r.text();
    EXPECT_FALSE(fs::exists(file()));
    EXPECT_EQ(audits("recovery_key.removed"), 1u);
    auto s = api.call("GET", kStatus, api.admin);
    EXPECT_EQ(s.body["state"], "removed");
    EXPECT_TRUE(s.body["removed_at"].is_string());
    EXPECT_TRUE(is_error(api.call("GET", kKey, api.admin), 410, "recovery_key_removed"));
    EXPECT_TRUE(is_error(api.call("POST", kConfirm, api.admin, {{"last_group", "htvdeghv"}}), 410, "recovery_key_removed"));
}

TEST_F(RecoveryKey, OnlyAFullAdminSeesIt) {
    write_key(kRecovery);
    for (const auto& path : {kKey, kStatus}) {
        EXPECT_TRUE(is_error(api.call("GET", path, api.doctor_b), 403, "forbidden")) << path;
        EXPECT_EQ(api.call("GET", path, "").status, 401) << path;
    }
    EXPECT_TRUE(is_error(api.call("POST", kConfirm, api.doctor_b, {{"last_group", "htvdeghv"}}), 403, "forbidden"));
    EXPECT_TRUE(fs::exists(file()));
    EXPECT_EQ(audits("recovery_key.shown"), 0u);
}

TEST_F(RecoveryKey, AFileFirstBootDidNotWriteIsNeverShown) {
    const fs::path elsewhere = api.proc().state_dir() / "elsewhere";
    write_text(elsewhere, kRecovery);
    const std::vector<std::pair<std::string, std::function<void()>>> cases{
        {"junk", [&] { write_key("not a key at all\n"); }},
        {"a key with a letter outside its alphabet", [&] { write_key("a" + kRecovery.substr(1)); }},
        {"a huge file", [&] { write_key(std::string(1 << 20, 'c')); }},
        {"a link", [&] { fs::remove(file()); fs::create_symlink(elsewhere, file()); }},
        {"a folder", [&] { fs::remove(file()); fs::create_directory(file()); }},
    };
    for (const auto& [what, make] : cases) {
        make();
        EXPECT_TRUE(is_error(api.call("GET", kKey, api.admin), 500, "recovery_key_unreadable")) << what;
        EXPECT_TRUE(is_error(api.call("POST", kConfirm, api.admin, {{"last_group", "htvdeghv"}}), 500,
                             "recovery_key_unreadable")) << what;
        fs::remove_all(file());
    }
    EXPECT_EQ(read_file(elsewhere), kRecovery) << "the link's target is untouched";
    EXPECT_EQ(api.call("GET", kStatus, api.admin).status, 200);
}

}  // namespace
}  // namespace consult::test::api
