// WebSocket upgrades accepted here rather than by soup_server_add_websocket_handler,
// for two reasons: no compression extension is offered (a small compressed frame can
// inflate to anything), and the connection reads through a stream that stops any
// message, however fragmented, at `max_message_bytes` (ws_frame_meter.hpp).
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <functional>

namespace consult::signalling {

using WebSocketAccepted = std::function<void(SoupServerMessage*, SoupWebsocketConnection*)>;

void accept_websockets(SoupServer* server, const char* path, std::uint64_t max_message_bytes, WebSocketAccepted accepted);

// The input side of `base` read through a WsFrameMeter; the output side is base's own.
GIOStream* limited_websocket_stream(GIOStream* base, std::uint64_t max_message_bytes);

}  // namespace consult::signalling
