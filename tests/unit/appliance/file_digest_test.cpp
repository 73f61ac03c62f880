// sha256_file: the published test vectors, a file larger than one read block, and a
// file that cannot be read.
#include "appliance/file_digest.hpp"

#include <gtest/gtest.h>
#include <glib.h>

#include <fstream>

namespace consult {
namespace {

namespace fs = std::filesystem;

class FileDigestTest : public ::testing::Test {
protected:
    void SetUp() override {
        gchar* made = g_dir_make_tmp("consult-digest-XXXXXX", nullptr);
        ASSERT_NE(made, nullptr);
        dir_ = made;
        g_free(made);
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    fs::path write(const std::string& name, const std::string& content) {
        std::ofstream(dir_ / name, std::ios::binary) << content;
        return dir_ / name;
    }
    fs::path dir_;
};

TEST_F(FileDigestTest, MatchesThePublishedVectors) {
    EXPECT_EQ(sha256_file(write("empty", "")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_file(write("abc", "abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(FileDigestTest, AFileOfManyBlocksIsReadToItsEnd) {
    // One million 'a': the FIPS 180-2 long vector, read in one block; twice that crosses blocks.
    EXPECT_EQ(sha256_file(write("million", std::string(1'000'000, 'a'))),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    const std::string two_blocks_and_a_bit((2 << 20) + 7, 'x');
    EXPECT_EQ(sha256_file(write("big", two_blocks_and_a_bit)).size(), 64u);
    EXPECT_NE(sha256_file(write("big2", two_blocks_and_a_bit + "y")), sha256_file(dir_ / "big"));
}

TEST_F(FileDigestTest, AFileThatCannotBeReadHasNoDigest) {
    EXPECT_EQ(sha256_file(dir_ / "missing"), "");
    EXPECT_EQ(sha256_file(dir_), "") << "a directory";
}

}  // namespace
}  // namespace consult
