// Reads along a client's WebSocket byte stream (RFC 6455 §5.2 framing) as it arrives
// and says when one message, all its fragments together, would grow past a limit.
// libsoup 3.2 checks each frame against its limit but not the sum of a fragmented
// message's frames, so an endless run of continuation frames grew without bound; the
// stream the hub's sockets read through (limited_stream.cpp) stops at this meter's no.
// Plain C++: no GLib.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace consult::signalling {

class WsFrameMeter {
public:
    explicit WsFrameMeter(std::uint64_t max_message_bytes) : max_(max_message_bytes) {}

    // Takes the next bytes read from the client; false once the stream went over the
    // limit (and from then on).
    bool feed(const std::uint8_t* data, std::size_t n);
    bool ok() const { return problem_.empty(); }
    const std::string& problem() const { return problem_; }

    // The message being received so far (0 between messages).
    std::uint64_t message_bytes() const { return message_; }

private:
    enum class State { First, Length, ExtendedLength, Mask, Payload };
    void header_done();

    std::uint64_t max_;
    State state_ = State::First;
    std::uint8_t opcode_ = 0;
    bool fin_ = false, masked_ = false;
    unsigned length_bytes_ = 0;   // extended length bytes still to read
    unsigned mask_bytes_ = 0;
    std::uint64_t frame_length_ = 0, payload_left_ = 0;
    std::uint64_t message_ = 0;
    std::string problem_;
};

}  // namespace consult::signalling
