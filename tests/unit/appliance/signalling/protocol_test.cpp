#include "appliance/signalling/messages.hpp"

#include <gtest/gtest.h>

namespace consult::signalling {
namespace {

CloseCode refusal(std::string_view text) {
    auto m = msg::parse(text);
    return m ? CloseCode::Normal : m.error().code;
}

TEST(SignallingProtocol, AcceptsEachDocumentedMessage) {
    for (const char* ok : {
             R"({"type":"hello","token":"a.b.c"})",
             R"({"type":"hello","token":"a.b.c","session":"5d0c1a1e-0000-4000-8000-000000000001"})",
             R"({"type":"precheck","camera":"ok","microphone":"failed","speaker":"skipped","browser":"Chrome"})",
             R"({"type":"answer","sdp":"v=0"})",
             R"({"type":"ice","candidate":"","mline":0})",
             R"({"type":"chat","text":"hi"})",
             R"({"type":"media","audio":false,"video":true})",
             R"({"type":"admit"})", R"({"type":"decline","reason":"later"})", R"({"type":"end"})",
             R"({"type":"view"})", R"({"type":"reconnect_media"})", R"({"type":"leave"})", R"({"type":"ping"})"})
        EXPECT_EQ(refusal(ok), CloseCode::Normal) << ok;
}

TEST(SignallingProtocol, RefusesMalformedMessagesWith4400) {
    for (const char* bad : {
             "", "{", "[]", "42", R"("hello")", R"({"token":"x"})", R"({"type":7})", R"({"type":"teleport"})",
             R"({"type":"hello"})", R"({"type":"hello","token":""})", R"({"type":"hello","token":"x","session":"short"})",
             R"({"type":"precheck","camera":"maybe","microphone":"ok","speaker":"ok"})",
             R"({"type":"answer"})", R"({"type":"ice","candidate":"c"})", R"({"type":"ice","candidate":"c","mline":-1})",
             R"({"type":"ice","candidate":"c","mline":99})", R"({"type":"media","audio":"no","video":true})",
             R"({"type":"chat","text":5})",
             // Once crashes of the daemon: every field is read with its type, for every message.
             R"({"type":"decline","reason":5})", R"({"type":"end","reason":{}})", R"({"type":"end","reason":[1]})",
             R"({"type":"admit","session":7})", R"({"type":"view","session":true})", R"({"type":"share","on":"yes"})",
             R"({"type":"hello","token":"x","device":"a b"})", R"({"type":"admit","screen":"s1;"})",
             R"({"type":"hello","token":["x"]})", R"({"type":"ice","candidate":null,"mline":0})",
             R"({"type":"ice","candidate":"c","mline":1.5})", R"({"type":"ice","candidate":"c","mline":18446744073709551615})",
             R"({"type":"chat","text":"hi","session":"5d0c1a1e-0000-4000-8000-00000000000g"})"})
        EXPECT_EQ(refusal(bad), CloseCode::BadMessage) << bad;
}

TEST(SignallingProtocol, FieldsThatDoNotMatterMayBeNullOrAbsentAndAreIgnoredWhenUnknown) {
    for (const char* ok : {R"({"type":"admit","reason":5})", R"({"type":"view","reason":null})",
                           R"({"type":"share","on":true,"reason":[]})", R"({"type":"end","reason":null})",
                           R"({"type":"reconnect_media","reason":{"a":1}})"})
        EXPECT_EQ(refusal(ok), CloseCode::Normal) << ok;
}

TEST(SignallingProtocol, DeepNestingIsRefusedBeforeItIsParsed) {
    std::string deep = R"({"type":"ping","x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    EXPECT_EQ(refusal(deep), CloseCode::TooBig);
    std::string nested = R"({"type":"ping","x":)" + std::string(50, '[') + std::string(50, ']') + "}";
    EXPECT_EQ(refusal(nested), CloseCode::BadMessage);
}

TEST(SignallingProtocol, MessagesAreTypedWithTheirFields) {
    auto m = msg::parse(R"({"type":"hello","token":"a.b.c","device":"d-1_x"})");
    ASSERT_TRUE(m);
    auto* hello = std::get_if<msg::Hello>(&*m);
    ASSERT_TRUE(hello);
    EXPECT_EQ(hello->device, "d-1_x");
    EXPECT_FALSE(hello->session);
    auto d = msg::parse(R"({"type":"decline","screen":"s12","reason":"later"})");
    ASSERT_TRUE(d);
    EXPECT_EQ(std::get<msg::Decline>(*d).reason, "later");
    EXPECT_STREQ(msg::type_name(*d), "decline");
    EXPECT_TRUE(msg::doctor_only(*d));
}

TEST(SignallingProtocol, RefusesOversizeMessagesWith1009) {
    std::string big = R"({"type":"chat","text":")" + std::string(kMaxMessageBytes, 'x') + R"("})";
    EXPECT_EQ(refusal(big), CloseCode::TooBig);
}

TEST(SignallingProtocol, FloodGuardAllowsABurstThenTheSustainedRate) {
    FloodGuard g(20, 50);
    std::int64_t t = 1'000'000;
    int allowed = 0;
    for (int i = 0; i < 100; ++i) allowed += g.allow(t);
    EXPECT_EQ(allowed, 50);
    t += 1'000'000;   // a second later: 20 more
    allowed = 0;
    for (int i = 0; i < 100; ++i) allowed += g.allow(t);
    EXPECT_EQ(allowed, 20);
}

TEST(SignallingProtocol, QualityLevelsFollowLossAndRoundTrip) {
    EXPECT_EQ(quality_level(40, 0.0), "good");
    EXPECT_EQ(quality_level(300, 0.0), "fair");
    EXPECT_EQ(quality_level(40, 0.05), "fair");
    EXPECT_EQ(quality_level(40, 0.2), "poor");
    EXPECT_EQ(quality_level(900, 0.0), "poor");
}

}  // namespace
}  // namespace consult::signalling
