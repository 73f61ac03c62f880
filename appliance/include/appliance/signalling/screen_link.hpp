// One screen's connection as the hub sees it: text out, a close with a code. The
// hub never touches a socket library; production links are libsoup WebSockets
// (soup_link.cpp), tests and the fuzz target use their own.
#pragma once

#include "appliance/signalling/protocol.hpp"

#include <string>

namespace consult::signalling {

class ScreenLink {
public:
    virtual ~ScreenLink() = default;
    virtual void send(const std::string& text) = 0;
    virtual void close(CloseCode code, const std::string& reason) = 0;
    virtual bool open() const = 0;
};

}  // namespace consult::signalling
