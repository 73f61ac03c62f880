// A screen's libsoup WebSocket as the hub's ScreenLink.
#pragma once

#include "appliance/signalling/hub.hpp"

#include <libsoup/soup.h>

namespace consult::signalling {

// Hands `ws` to the hub as a new screen; its messages and its close reach the hub.
void make_soup_link(Hub& hub, SoupWebsocketConnection* ws, const std::string& address);

}  // namespace consult::signalling
