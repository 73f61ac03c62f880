// A GIOStream over another whose input is read through a filter: the filter sees
// every read's result (and may change it or fail it), and hears when the stream is
// closed. The output side is the base's own. Used for the HTTP server's connections
// (http/guarded_stream) and the signalling WebSockets' message limit (ws_accept).
#pragma once

#include <gio/gio.h>

#include <memory>

namespace consult::net {

class ReadFilter {
public:
    virtual ~ReadFilter() = default;
    // `n` is what the base read returned (bytes, 0 at the end, -1 with `error` set);
    // the return value is what the reader gets. `buffer` holds `count` bytes of room.
    virtual gssize filter(void* buffer, gsize count, gssize n, GError** error) = 0;
    // The stream was closed (once), or is being finalized without a close.
    virtual void closed() {}
};

// The input stream is pollable (as libsoup reads it); closing goes through the base's
// own asynchronous close on the caller's thread.
GIOStream* filter_stream_new(GIOStream* base, std::unique_ptr<ReadFilter> filter);

}  // namespace consult::net
