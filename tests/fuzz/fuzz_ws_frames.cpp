// A client's WebSocket byte stream, as the frame meter reads it in any chunking.
#include "appliance/signalling/ws_frame_meter.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    consult::signalling::WsFrameMeter meter(64 * 1024);
    const std::size_t chunk = 1 + data[0] % 17;
    for (std::size_t i = 1; i < size; i += chunk)
        if (!meter.feed(data + i, std::min(chunk, size - i))) break;
    return 0;
}
