// The signalling protocol's vocabulary (docs/signalling.md): close codes, limits and
// the per-socket flood guard. The messages themselves are in messages.hpp.
// Plain C++: no sockets, no main loop.
#pragma once

#include <cstdint>
#include "hwconfig/expected.hpp"
#include <string>
#include <string_view>

namespace consult::signalling {

enum class CloseCode : std::uint16_t {
    Normal = 1000,
    GoingAway = 1001,
    TooBig = 1009,
    BadMessage = 4400,
    Unauthenticated = 4401,
    Forbidden = 4403,
    TurnedAway = 4404,
    Replaced = 4409,
    Ended = 4410,
    BrowserUnsupported = 4415,   // the answer took nothing offered: this browser cannot join
    Flood = 4429,
    MediaUnavailable = 4503,
    InternalError = 1011,
    TryAgainLater = 1013,
};

constexpr std::size_t kMaxMessageBytes = 64 * 1024;
constexpr unsigned kHelloTimeoutMs = 10'000;

struct ProtocolError {
    CloseCode code;
    std::string reason;     // short, safe to show and to send as the close reason
};

// At most `burst` messages at once and `per_second` sustained (a token bucket).
class FloodGuard {
public:
    FloodGuard(double per_second = 20, double burst = 50) : rate_(per_second), burst_(burst), tokens_(burst) {}
    bool allow(std::int64_t now_us);
private:
    double rate_, burst_, tokens_;
    std::int64_t last_us_ = 0;
};

// "good" / "fair" / "poor" from round-trip time and loss.
std::string quality_level(double rtt_ms, double fraction_lost);

}  // namespace consult::signalling
