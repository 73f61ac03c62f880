#include "appliance/signalling/protocol.hpp"

#include <gtest/gtest.h>

namespace consult::signalling {
namespace {

CloseCode refusal(std::string_view text) {
    auto m = parse_client_message(text);
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
             R"({"type":"chat","text":5})"})
        EXPECT_EQ(refusal(bad), CloseCode::BadMessage) << bad;
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
