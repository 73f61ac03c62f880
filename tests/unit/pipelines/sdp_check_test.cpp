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

}  // namespace
}  // namespace consult::media
