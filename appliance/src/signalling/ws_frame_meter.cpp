#include "appliance/signalling/ws_frame_meter.hpp"

namespace consult::signalling {

namespace {
constexpr std::uint8_t kContinuation = 0x0, kText = 0x1, kBinary = 0x2;
}  // namespace

void WsFrameMeter::header_done() {
    const bool control = opcode_ & 0x8;
    if (!control) {
        if (opcode_ == kText || opcode_ == kBinary) {
            message_ = 0;   // a new message (libsoup refuses one that starts inside another)
        }
        if (opcode_ == kContinuation || opcode_ == kText || opcode_ == kBinary) {
            if (frame_length_ > max_ || message_ + frame_length_ > max_) {
                problem_ = "a message grew past " + std::to_string(max_) + " bytes";
                return;
            }
            message_ += frame_length_;
        }
    }
    payload_left_ = frame_length_;
    state_ = payload_left_ > 0 ? State::Payload : State::First;
    if (state_ == State::First && !control && fin_) {
        message_ = 0;
    }
}

bool WsFrameMeter::feed(const std::uint8_t* data, std::size_t n) {
    std::size_t i = 0;
    while (ok() && i < n) {
        const std::uint8_t b = data[i];
        switch (state_) {
        case State::First:
            fin_ = b & 0x80;
            opcode_ = b & 0x0f;
            state_ = State::Length;
            ++i;
            break;
        case State::Length: {
            masked_ = b & 0x80;
            const std::uint8_t len = b & 0x7f;
            mask_bytes_ = masked_ ? 4 : 0;
            frame_length_ = 0;
            ++i;
            if (len == 126 || len == 127) {
                length_bytes_ = len == 126 ? 2 : 8;
                state_ = State::ExtendedLength;
            } else {
                frame_length_ = len;
                state_ = mask_bytes_ ? State::Mask : State::Payload;
                if (!mask_bytes_) header_done();
            }
            break;
        }
        case State::ExtendedLength:
            frame_length_ = (frame_length_ << 8) | b;
            ++i;
            if (--length_bytes_ == 0) {
                if (mask_bytes_) state_ = State::Mask;
                else header_done();
            }
            break;
        case State::Mask:
            ++i;
            if (--mask_bytes_ == 0) header_done();
            break;
        case State::Payload: {
            const std::uint64_t take = std::min<std::uint64_t>(payload_left_, n - i);
            payload_left_ -= take;
            i += std::size_t(take);
            if (payload_left_ == 0) {
                state_ = State::First;
                if (!(opcode_ & 0x8) && fin_) {
                    message_ = 0;
                }
            }
            break;
        }
        }
    }
    return ok();
}

}  // namespace consult::signalling
