// to_hex: lower case, two digits a byte, every byte value, text and raw bytes alike.
#include "appliance/hex.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace consult {
namespace {

TEST(HexTest, EveryByteIsTwoLowerCaseDigits) {
    EXPECT_EQ(to_hex(std::string_view()), "");
    const std::array<unsigned char, 5> bytes{0x00, 0x0f, 0x10, 0xab, 0xff};
    EXPECT_EQ(to_hex(bytes), "000f10abff");
    std::vector<unsigned char> all(256);
    for (int i = 0; i < 256; ++i) all[i] = static_cast<unsigned char>(i);
    const std::string hex = to_hex(all);
    ASSERT_EQ(hex.size(), 512u);
    EXPECT_EQ(hex.substr(0, 6), "000102");
    EXPECT_EQ(hex.substr(506), "fdfeff");
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(HexTest, TextIsItsBytes) {
    EXPECT_EQ(to_hex(std::string_view("Clinic Staff")), "436c696e6963205374616666");
    EXPECT_EQ(to_hex(std::string("caf\xc3\xa9")), "636166c3a9") << "bytes over 0x7f stay unsigned";
    EXPECT_EQ(to_hex(std::string("a\0b", 3)), "610062");
}

}  // namespace
}  // namespace consult
