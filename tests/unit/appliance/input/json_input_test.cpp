#include "appliance/input/json_input.hpp"

#include <gtest/gtest.h>

namespace consult::input {
namespace {

TEST(JsonInput, RefusesTooLargeTooDeepAndBrokenInputBeforeParsing) {
    EXPECT_FALSE(parse(std::string(100, ' '), {50, 8}));
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    auto d = parse(deep, {1 << 20, 32});
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().find("nested deeper"), std::string::npos);
    EXPECT_FALSE(parse("\xff\xfe", {}));
    EXPECT_FALSE(parse("{", {}));
    EXPECT_TRUE(parse(R"({"a":[[["x"]]]})", {100, 4}));
    EXPECT_FALSE(parse(R"({"a":[[["x"]]]})", {100, 3}));
}

TEST(JsonInput, BracketsInsideStringsDoNotCountAsNesting) {
    EXPECT_EQ(nesting_depth(R"({"a":"[[[[{{{{\"[[["})", 10), 1);
    EXPECT_TRUE(parse(R"({"a":"[[[[[[[[[[[[[[["})", {100, 2}));
}

TEST(JsonInput, FieldsAreReadWithTheirTypesOrRefusedNamingTheField) {
    auto j = nlohmann::json::parse(R"({"s":"text","n":7,"big":18446744073709551615,"b":true,"z":null,"o":{},"a":[],"f":1.5})");
    Fields f(j);
    EXPECT_EQ(f.optional_string("s"), "text");
    EXPECT_FALSE(f.optional_string("z")) << "null is absent";
    EXPECT_FALSE(f.optional_string("missing"));
    EXPECT_EQ(f.required_int("n", 0, 10), 7);
    EXPECT_TRUE(f.required_bool("b"));
    EXPECT_TRUE(f.optional_object("o"));
    EXPECT_TRUE(f.optional_array("a"));
    EXPECT_EQ(f.optional_scalar_text("n"), "7");
    auto kind_of = [&](auto&& read) {
        try {
            read();
        } catch (const FieldError& e) {
            return std::make_pair(e.kind(), e.field());
        }
        return std::make_pair(FieldError::Kind::Missing, std::string("none thrown"));
    };
    EXPECT_EQ(kind_of([&] { f.optional_string("n"); }), std::make_pair(FieldError::Kind::WrongType, std::string("n")));
    EXPECT_EQ(kind_of([&] { f.required_string("missing"); }), std::make_pair(FieldError::Kind::Missing, std::string("missing")));
    EXPECT_EQ(kind_of([&] { f.optional_int("n", 0, 5); }), std::make_pair(FieldError::Kind::OutOfRange, std::string("n")));
    EXPECT_EQ(kind_of([&] { f.optional_int("big", 0, 100); }), std::make_pair(FieldError::Kind::OutOfRange, std::string("big")));
    EXPECT_EQ(kind_of([&] { f.optional_int("f", 0, 100); }), std::make_pair(FieldError::Kind::WrongType, std::string("f")));
    EXPECT_EQ(kind_of([&] { f.optional_bool("s"); }), std::make_pair(FieldError::Kind::WrongType, std::string("s")));
    EXPECT_EQ(kind_of([&] { f.optional_object("a"); }), std::make_pair(FieldError::Kind::WrongType, std::string("a")));
    EXPECT_EQ(kind_of([&] { f.optional_string("s", 3); }), std::make_pair(FieldError::Kind::OutOfRange, std::string("s")));
    EXPECT_THROW(Fields{nlohmann::json::array()}, FieldError);
}

TEST(JsonInput, LengthsAreCountedInCharactersNotBytes) {
    auto j = nlohmann::json::parse(R"({"s":"äöü✓"})");
    EXPECT_EQ(Fields(j).optional_string("s", 4), "äöü✓");
    EXPECT_EQ(utf8_length("äöü✓"), 4u);
}

}  // namespace
}  // namespace consult::input
