// Each accepted connection reaches libsoup through this GIOStream, so the server
// knows exactly when it closes, and so one libsoup 3.2 fault is worked around: when a
// client closes a kept-alive connection before sending its next request, libsoup
// meets the end of the stream with no request in progress, finishes a message that
// never started, and never disconnects: the socket stays open (CLOSE-WAIT) for good,
// one more file descriptor gone each time. Here, an end of stream with nothing read
// since the last answer is preceded by one byte that is not HTTP: libsoup then starts a
// request, finds it malformed, and closes the connection as it should.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>

namespace consult::http {

struct StreamWatch {
    bool at_boundary = true;            // the last answer is out; nothing of the next request yet
    std::uint64_t bytes_in = 0;
    std::function<void()> closed;       // called once, when libsoup (or a WebSocket) closes it
};

// Wraps `base` (a GSocketConnection, or a GTlsConnection over one). Main thread only.
GIOStream* guarded_stream_new(GIOStream* base, std::shared_ptr<StreamWatch> watch);

}  // namespace consult::http
