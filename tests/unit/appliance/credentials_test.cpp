#include "appliance/credentials.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

namespace consult {
namespace {

mode_t mode_of(const std::filesystem::path& p) {
    struct stat st{};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}

class CredentialsTest : public ::testing::Test {
protected:
    void SetUp() override { ::unsetenv("CREDENTIALS_DIRECTORY"); }
    void TearDown() override { ::unsetenv("CREDENTIALS_DIRECTORY"); }
    test::TempDir state_;
};

TEST_F(CredentialsTest, AbsentSecretIsNothingNotAnError) {
    auto v = Credentials(state_.path()).read("cloud-api-key");
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->has_value());
}

TEST_F(CredentialsTest, CreatedOnFirstUseAs0600AndReusedAfter) {
    Credentials c(state_.path());
    auto first = c.read_or_create("token-signing-key", 32);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->size(), 64u);
    EXPECT_EQ(mode_of(c.local_dir() / "token-signing-key"), 0600u);
    EXPECT_EQ(mode_of(c.local_dir()), 0700u);
    EXPECT_EQ(*c.read_or_create("token-signing-key", 32), *first);
}

TEST_F(CredentialsTest, RefusesAFileOthersCanRead) {
    Credentials c(state_.path());
    ASSERT_TRUE(c.store("smtp-password", "hunter2").has_value());
    ::chmod((c.local_dir() / "smtp-password").c_str(), 0644);
    auto v = c.read("smtp-password");
    ASSERT_FALSE(v.has_value());
    EXPECT_NE(v.error().find("readable by others"), std::string::npos);
}

TEST_F(CredentialsTest, SystemdCredentialsTakePrecedence) {
    test::TempDir creds;
    creds.write("cloud-api-key", "from-systemd\n");
    Credentials c(state_.path());
    ASSERT_TRUE(c.store("cloud-api-key", "from-state-dir").has_value());
    ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
    EXPECT_EQ(**c.read("cloud-api-key"), "from-systemd");
}

TEST_F(CredentialsTest, EmptyFilesAndPathNamesAreRefused) {
    Credentials c(state_.path());
    ASSERT_TRUE(c.store("x", "").has_value());
    EXPECT_FALSE(c.read("x").has_value());
    EXPECT_FALSE(c.read("../etc/passwd").has_value());
    EXPECT_FALSE(c.store("a/b", "v").has_value());
}

}  // namespace
}  // namespace consult
