// The short invite code: its alphabet and length (40 bits), what a person may type.
#include "appliance/domain/short_code.hpp"

#include <gtest/gtest.h>

#include <set>

namespace consult::domain {
namespace {

TEST(ShortCode, IsEightCharactersWithoutLookAlikes) {
    EXPECT_EQ(kShortCodeAlphabet.size(), 32u) << "8 characters of 5 bits: 40 bits";
    for (char c : std::string_view("01IO")) EXPECT_EQ(kShortCodeAlphabet.find(c), std::string_view::npos) << c;
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const std::string code = new_short_code();
        ASSERT_EQ(code.size(), kShortCodeLength);
        for (char c : code) ASSERT_NE(kShortCodeAlphabet.find(c), std::string_view::npos) << code;
        seen.insert(code);
    }
    EXPECT_EQ(seen.size(), 2000u);
}

TEST(ShortCode, ForgivesCaseSpacesAndDashesButNothingElse) {
    EXPECT_EQ(normalize_short_code("k7qx-3mpa"), "K7QX3MPA");
    EXPECT_EQ(normalize_short_code(" K7QX 3MPA "), "K7QX3MPA");
    EXPECT_EQ(normalize_short_code("K7QX3MP"), std::nullopt) << "too short";
    EXPECT_EQ(normalize_short_code("K7QX3MPAB"), std::nullopt) << "too long";
    EXPECT_EQ(normalize_short_code("K7QX3MP0"), std::nullopt) << "0 is not in the alphabet";
    EXPECT_EQ(normalize_short_code("K7QX3MP%"), std::nullopt);
    EXPECT_EQ(normalize_short_code(std::string(10000, '-')), std::nullopt);
    EXPECT_EQ(spoken_short_code("K7QX3MPA"), "K7QX 3MPA");
}

}  // namespace
}  // namespace consult::domain
