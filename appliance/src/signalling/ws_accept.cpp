#include "appliance/signalling/ws_accept.hpp"

#include "appliance/net/filter_stream.hpp"
#include "appliance/signalling/ws_frame_meter.hpp"
#include "hwconfig/c_boundary.hpp"
#include "hwconfig/gref.hpp"

#include <gio/gio.h>

#include <memory>

namespace consult::signalling {

namespace {

// Every byte read from the client goes through the meter; past the limit the read
// fails and libsoup drops the connection.
class Metered : public net::ReadFilter {
public:
    explicit Metered(std::uint64_t max_message_bytes) : meter_(max_message_bytes) {}
    gssize filter(void* buffer, gsize, gssize n, GError** error) override {
        if (n <= 0) return n;
        if (!meter_.feed(static_cast<const std::uint8_t*>(buffer), std::size_t(n))) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "WebSocket: %s", meter_.problem().c_str());
            return -1;
        }
        return n;
    }

private:
    WsFrameMeter meter_;
};

}  // namespace

GIOStream* limited_websocket_stream(GIOStream* base, std::uint64_t max_message_bytes) {
    return net::filter_stream_new(base, std::make_unique<Metered>(max_message_bytes));
}

namespace {

struct Acceptor {
    std::uint64_t max_message_bytes;
    WebSocketAccepted accepted;
};

void upgrade(SoupServerMessage* msg, gpointer p) {
    at_boundary("websocket upgrade", [&] {
        auto* a = static_cast<Acceptor*>(p);
        GRef<SoupServerMessage> keep = retain(msg);
        GRef<GIOStream> stolen = adopt(soup_server_message_steal_connection(msg));
        if (!stolen) return;
        GRef<GIOStream> limited = adopt(limited_websocket_stream(stolen.get(), a->max_message_bytes));
        auto* request = soup_server_message_get_request_headers(msg);
        auto* response = soup_server_message_get_response_headers(msg);
        GRef<SoupWebsocketConnection> ws = adopt(soup_websocket_connection_new(
            limited.get(), soup_server_message_get_uri(msg), SOUP_WEBSOCKET_CONNECTION_SERVER,
            soup_message_headers_get_one(request, "Origin"), soup_message_headers_get_one(response, "Sec-WebSocket-Protocol"),
            nullptr));
        a->accepted(msg, ws.get());
    });
}

void on_upgrade_request(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer p) {
    at_boundary("websocket handshake", [&] {
        if (soup_server_message_get_status(msg) != 0) return;   // answered early (a body too large)
        GError* err = nullptr;
        if (!soup_websocket_server_check_handshake(msg, nullptr, nullptr, nullptr, &err)) {
            const std::string why = err ? err->message : "not a WebSocket handshake";
            g_clear_error(&err);
            soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, nullptr);
            soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, why.data(), why.size());
            return;
        }
        // No extensions offered: process_handshake answers 101 without permessage-deflate.
        if (soup_websocket_server_process_handshake(msg, nullptr, nullptr, nullptr, nullptr))
            g_signal_connect(msg, "wrote-informational", G_CALLBACK(upgrade), p);
    });
}

}  // namespace

void accept_websockets(SoupServer* server, const char* path, std::uint64_t max_message_bytes, WebSocketAccepted accepted) {
    soup_server_add_handler(server, path, on_upgrade_request, new Acceptor{max_message_bytes, std::move(accepted)},
                            [](gpointer p) { delete static_cast<Acceptor*>(p); });
}

}  // namespace consult::signalling
