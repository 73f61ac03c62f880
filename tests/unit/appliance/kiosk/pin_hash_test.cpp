// Kiosk PINs: format, salted scrypt hashes, constant-time verification.
#include "appliance/kiosk/pin_hash.hpp"

#include <gtest/gtest.h>

namespace consult::kiosk {
namespace {

TEST(PinHash, APinIsFourToEightDigits) {
    EXPECT_TRUE(valid_pin("1234"));
    EXPECT_TRUE(valid_pin("12345678"));
    EXPECT_FALSE(valid_pin("123"));
    EXPECT_FALSE(valid_pin("123456789"));
    EXPECT_FALSE(valid_pin("12a4"));
    EXPECT_FALSE(valid_pin(" 1234"));
    EXPECT_FALSE(valid_pin(""));
    EXPECT_THROW(hash_pin("12"), std::invalid_argument);
}

TEST(PinHash, TheRightPinVerifiesAndAWrongOneDoesNot) {
    const std::string stored = hash_pin("4821");
    EXPECT_TRUE(verify_pin("4821", stored));
    EXPECT_FALSE(verify_pin("4822", stored));
    EXPECT_FALSE(verify_pin("48210", stored));
    EXPECT_FALSE(verify_pin("", stored));
}

TEST(PinHash, TheStoredFormNamesScryptAndItsCostAndHidesThePin) {
    // Salt and hash are hex, so a short PIN turns up in them by chance (a four-digit
    // one in about one hash in seven hundred); eight digits make that one in millions.
    const std::string stored = hash_pin("48213579");
    EXPECT_EQ(stored.rfind("scrypt$16384$8$1$", 0), 0u) << stored;
    EXPECT_EQ(stored.find("48213579"), std::string::npos) << stored;
}

TEST(PinHash, EachHashHasItsOwnSalt) {
    EXPECT_NE(hash_pin("0000"), hash_pin("0000"));
}

TEST(PinHash, AMalformedStoredValueNeverVerifies) {
    const std::string good = hash_pin("1111");
    for (const std::string& bad : {std::string(), std::string("scrypt$"), std::string("pbkdf2$1$2$3$00$00"),
                                  good.substr(0, good.size() - 2), good.substr(0, good.rfind('$')) + "$zz"})
        EXPECT_FALSE(verify_pin("1111", bad)) << bad;
}

TEST(PinHash, AStoredCostIsHonoured) {
    const std::string cheap = hash_pin("2468", {1ULL << 10, 8, 1});
    EXPECT_EQ(cheap.rfind("scrypt$1024$8$1$", 0), 0u);
    EXPECT_TRUE(verify_pin("2468", cheap));
}

}  // namespace
}  // namespace consult::kiosk
