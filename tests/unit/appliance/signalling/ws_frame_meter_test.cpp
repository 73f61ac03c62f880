#include "appliance/signalling/ws_frame_meter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace consult::signalling {
namespace {

// One client frame (masked, as browsers send them) with `n` payload bytes.
std::vector<std::uint8_t> frame(std::uint8_t opcode, bool fin, std::uint64_t n) {
    std::vector<std::uint8_t> out{std::uint8_t((fin ? 0x80 : 0) | opcode)};
    if (n < 126) {
        out.push_back(std::uint8_t(0x80 | n));
    } else if (n <= 0xffff) {
        out.push_back(0x80 | 126);
        out.push_back(std::uint8_t(n >> 8));
        out.push_back(std::uint8_t(n));
    } else {
        out.push_back(0x80 | 127);
        for (int s = 56; s >= 0; s -= 8) out.push_back(std::uint8_t(n >> s));
    }
    for (int k = 0; k < 4; ++k) out.push_back(0x5a);
    out.insert(out.end(), std::size_t(n), 'x');
    return out;
}

bool feed_all(WsFrameMeter& m, const std::vector<std::uint8_t>& bytes, std::size_t chunk) {
    for (std::size_t i = 0; i < bytes.size(); i += chunk)
        if (!m.feed(bytes.data() + i, std::min(chunk, bytes.size() - i))) return false;
    return true;
}

TEST(WsFrameMeter, WholeMessagesUnderTheLimitPassInAnyChunking) {
    for (std::size_t chunk : {1u, 3u, 7u, 4096u}) {
        WsFrameMeter m(1000);
        std::vector<std::uint8_t> s;
        for (int k = 0; k < 20; ++k) {
            auto f = frame(0x1, true, 900);
            s.insert(s.end(), f.begin(), f.end());
        }
        EXPECT_TRUE(feed_all(m, s, chunk)) << chunk;
        EXPECT_EQ(m.message_bytes(), 0u);
    }
}

TEST(WsFrameMeter, FragmentsAreAddedUpAndAMessageOverTheLimitIsStopped) {
    WsFrameMeter m(1000);
    auto first = frame(0x1, false, 400), more = frame(0x0, false, 400), last = frame(0x0, true, 400);
    EXPECT_TRUE(feed_all(m, first, 5));
    EXPECT_TRUE(feed_all(m, more, 5));
    EXPECT_EQ(m.message_bytes(), 800u);
    EXPECT_FALSE(feed_all(m, last, 5));
    EXPECT_FALSE(m.problem().empty());
    EXPECT_FALSE(m.feed(last.data(), 1)) << "stays refused";
}

TEST(WsFrameMeter, EndlessContinuationFramesAreStoppedAtTheLimit) {
    WsFrameMeter m(64 * 1024);
    EXPECT_TRUE(feed_all(m, frame(0x1, false, 100), 4096));
    std::uint64_t sent = 100;
    bool stopped = false;
    for (int k = 0; k < 1000 && !stopped; ++k) {
        stopped = !feed_all(m, frame(0x0, false, 16 * 1024), 4096);
        if (!stopped) sent += 16 * 1024;
    }
    EXPECT_TRUE(stopped);
    EXPECT_LE(sent, 64u * 1024);
}

TEST(WsFrameMeter, ControlFramesInsideAFragmentedMessageDoNotCountOrEndIt) {
    WsFrameMeter m(1000);
    EXPECT_TRUE(feed_all(m, frame(0x1, false, 600), 2));
    EXPECT_TRUE(feed_all(m, frame(0x9, true, 100), 2));   // ping
    EXPECT_TRUE(feed_all(m, frame(0xA, true, 0), 2));     // pong
    EXPECT_EQ(m.message_bytes(), 600u);
    EXPECT_TRUE(feed_all(m, frame(0x0, true, 400), 2));
    EXPECT_EQ(m.message_bytes(), 0u);
}

TEST(WsFrameMeter, AHugeDeclaredLengthIsRefusedFromItsHeader) {
    WsFrameMeter m(1 << 20);
    std::vector<std::uint8_t> header{0x81, 0x80 | 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    EXPECT_FALSE(m.feed(header.data(), header.size()));
}

}  // namespace
}  // namespace consult::signalling
