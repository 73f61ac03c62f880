#include "pipelines/sdp_check.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace consult::media {
namespace {

std::string offer() {
    std::ifstream in(CONSULT_SOURCE_DIR "/tests/fuzz/room_offer.sdp");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
    return s;
}

// What a browser answers: its own ICE credentials, active, receiving the video.
std::string answer() {
    std::string a = replaced(offer(), "a=setup:actpass", "a=setup:active");
    a = replaced(a, "a=sendonly", "a=recvonly");
    a = replaced(a, "Qb5dVq1rNpV2kwZ0tVYQp4uT9OxDf1m8", "brwsr");
    return a;
}

TEST(SdpCheck, AnOrdinaryAnswerPassesWithWhatItAccepted) {
    auto shape = check_answer(offer(), answer());
    ASSERT_TRUE(shape) << shape.error();
    ASSERT_EQ(shape->sections.size(), 2u);
    EXPECT_EQ(shape->sections[0].media, "video");
    EXPECT_EQ(shape->sections[0].mid, "video0");
    EXPECT_TRUE(shape->sections[0].accepted);
    EXPECT_EQ(shape->sections[0].payloads, std::vector<std::string>{"96"});
    EXPECT_FALSE(shape->rejects_any());
}

TEST(SdpCheck, ARejectedSectionIsReportedEvenWithIceAndDtlsStillInIt) {
    auto shape = check_answer(offer(), replaced(answer(), "m=video 9 ", "m=video 0 "));
    ASSERT_TRUE(shape) << shape.error();
    EXPECT_FALSE(shape->sections[0].accepted);
    EXPECT_TRUE(shape->rejects_any());
}

TEST(SdpCheck, HostileAnswersAreRefusedWithAReason) {
    const std::string good = answer();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"empty", ""},
        {"not sdp", "hello"},
        {"no media", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"},
        {"one section short", good.substr(0, good.find("m=audio"))},
        {"sections swapped", replaced(replaced(good, "m=video", "m=tmp"), "m=audio", "m=video")},
        {"mid changed", replaced(good, "a=mid:audio1", "a=mid:other")},
        {"no ice", replaced(replaced(good, "a=ice-ufrag:brwsr\r\n", ""), "a=ice-ufrag:brwsr", "")},
        {"no fingerprint", replaced(good, "a=fingerprint:", "a=x-fingerprint:")},
        {"actpass", replaced(good, "a=setup:active", "a=setup:actpass")},
        {"no offered format", replaced(good, "SAVPF 96", "SAVPF 120")},
    };
    for (const auto& [what, sdp] : cases) {
        auto shape = check_answer(offer(), sdp);
        EXPECT_FALSE(shape) << what;
        if (!shape) {
            EXPECT_FALSE(shape.error().empty()) << what;
        }
    }
}

TEST(SdpCheck, AnAnswerOnlyForAudioWhenVideoWasRefusedPasses) {
    // Firefox without H.264: video rejected (port 0, a format of its own), audio kept.
    std::string a = replaced(answer(), "m=video 9 UDP/TLS/RTP/SAVPF 96", "m=video 0 UDP/TLS/RTP/SAVPF 120");
    auto shape = check_answer(offer(), a);
    ASSERT_TRUE(shape) << shape.error();
    EXPECT_FALSE(shape->sections[0].accepted);
    EXPECT_TRUE(shape->sections[1].accepted);
}

// The offer as the appliance writes it now: audio first (it tags the bundle), one video
// section with H.264 and VP8 beside it.
std::string fallback_offer() {
    std::ifstream in(CONSULT_SOURCE_DIR "/tests/fuzz/room_offer_fallback.sdp");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A browser's answer to it: its own credentials, active, video kept in `video_formats`.
std::string fallback_answer(const std::string& video_formats) {
    std::string a = replaced(fallback_offer(), "a=setup:actpass", "a=setup:active");
    a = replaced(a, "Qb5dVq1rNpV2kwZ0tVYQp4uT9OxDf1m8", "brwsr");
    a = replaced(a, "a=bundle-only\r\n", "");
    return replaced(a, "m=video 0 UDP/TLS/RTP/SAVPF 96 97", "m=video 9 UDP/TLS/RTP/SAVPF " + video_formats);
}

TEST(SdpCheck, EachBrowserKindOfAnswerToTheFallbackOfferIsUnderstood) {
    struct Case {
        const char* who;
        std::string sdp;
        bool video;
        std::vector<std::string> formats;
    };
    const std::vector<Case> cases = {
        {"Chrome (H.264 and VP8)", fallback_answer("96 97"), true, {"96", "97"}},
        {"Safari (H.264 only)", fallback_answer("96"), true, {"96"}},
        {"Firefox without OpenH264 (VP8 only)", fallback_answer("97"), true, {"97"}},
        {"video turned down", replaced(fallback_answer("96 97"), "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 0 UDP/TLS/RTP/SAVPF 120"),
         false, {}},
    };
    for (const Case& c : cases) {
        auto shape = check_answer(fallback_offer(), c.sdp);
        ASSERT_TRUE(shape) << c.who << ": " << shape.error();
        ASSERT_EQ(shape->sections.size(), 2u) << c.who;
        EXPECT_EQ(shape->sections[0].media, "audio") << c.who;
        EXPECT_TRUE(shape->sections[0].accepted) << c.who;
        EXPECT_EQ(shape->sections[1].accepted, c.video) << c.who;
        if (c.video) {
            EXPECT_EQ(shape->sections[1].payloads, c.formats) << c.who;
        }
    }
}

TEST(SdpCheck, AnAnswerTurningEverythingDownParsesAsNothingAccepted) {
    std::string a = replaced(fallback_answer("96 97"), "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 0 UDP/TLS/RTP/SAVPF 96");
    a = replaced(a, "m=audio 9 ", "m=audio 0 ");
    auto shape = check_answer(fallback_offer(), a);
    ASSERT_TRUE(shape) << shape.error();
    EXPECT_FALSE(shape->sections[0].accepted);
    EXPECT_FALSE(shape->sections[1].accepted);
}

TEST(SdpCheck, ARejectedSectionIsRewrittenTheOneWayTheMediaEngineTakes) {
    // As Firefox writes it: port 0, the section's own attributes gone, still in BUNDLE.
    std::string a = fallback_answer("96 97");
    const std::size_t video = a.find("m=video");
    a = a.substr(0, video) + "m=video 0 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=mid:video1\r\na=ice-ufrag:junk\r\n";
    auto shape = check_answer(fallback_offer(), a);
    ASSERT_TRUE(shape) << shape.error();
    const std::string out = normalised_answer(a, *shape);
    const std::size_t v = out.find("m=video 0 ");
    ASSERT_NE(v, std::string::npos) << out;
    const std::string section = out.substr(v);
    EXPECT_NE(out.find("a=group:BUNDLE audio0\r\n"), std::string::npos) << "out of the bundle: " << out;
    EXPECT_NE(section.find("a=mid:video1"), std::string::npos) << section;
    EXPECT_NE(section.find("a=inactive"), std::string::npos) << section;
    EXPECT_NE(section.find("a=ice-ufrag:brwsr"), std::string::npos) << "the bundle's credentials: " << section;
    EXPECT_EQ(section.find("junk"), std::string::npos) << section;
    EXPECT_NE(section.find("a=setup:active"), std::string::npos) << section;
    EXPECT_NE(section.find("a=fingerprint:sha-256"), std::string::npos) << section;
    // The audio section comes through as it was.
    EXPECT_EQ(out.substr(out.find("m=audio"), v - out.find("m=audio")), a.substr(a.find("m=audio"), video - a.find("m=audio")));
    // And the result checks against the offer like any answer.
    auto again = check_answer(fallback_offer(), out);
    ASSERT_TRUE(again) << again.error();
    EXPECT_FALSE(again->sections[1].accepted);
}

TEST(SdpCheck, AnAnswerThatRejectsNothingIsPassedOnUntouched) {
    const std::string a = fallback_answer("97");
    auto shape = check_answer(fallback_offer(), a);
    ASSERT_TRUE(shape) << shape.error();
    EXPECT_EQ(normalised_answer(a, *shape), a);
}

}  // namespace
}  // namespace consult::media
