#include "soup_link.hpp"

#include "hwconfig/c_boundary.hpp"
#include "hwconfig/gref.hpp"

namespace consult::signalling {

namespace {

class SoupLink : public ScreenLink {
public:
    explicit SoupLink(SoupWebsocketConnection* ws) : ws_(retain(ws)) {}
    ~SoupLink() override {
        for (gulong h : handlers_) g_signal_handler_disconnect(ws_.get(), h);
        if (open()) soup_websocket_connection_close(ws_.get(), gushort(CloseCode::GoingAway), nullptr);
    }
    void send(const std::string& text) override { soup_websocket_connection_send_text(ws_.get(), text.c_str()); }
    void close(CloseCode code, const std::string& reason) override {
        soup_websocket_connection_close(ws_.get(), gushort(code), reason.c_str());
    }
    bool open() const override { return soup_websocket_connection_get_state(ws_.get()) == SOUP_WEBSOCKET_STATE_OPEN; }

    void listen(Hub& hub, const std::string& id) {
        struct Ctx {
            Hub* hub;
            std::string id;
        };
        auto free_ctx = +[](gpointer p, GClosure*) { delete static_cast<Ctx*>(p); };
        auto* on_message = +[](SoupWebsocketConnection*, gint type, GBytes* bytes, gpointer p) {
            auto* c = static_cast<Ctx*>(p);
            at_boundary("signalling message", [&] {
                if (type != SOUP_WEBSOCKET_DATA_TEXT) {
                    c->hub->refuse(c->id, CloseCode::BadMessage, "text frames only");
                    return;
                }
                gsize n = 0;
                auto* data = static_cast<const char*>(g_bytes_get_data(bytes, &n));
                c->hub->receive(c->id, std::string_view(data, n));
            });
        };
        auto* on_closed = +[](SoupWebsocketConnection*, gpointer p) {
            auto* c = static_cast<Ctx*>(p);
            at_boundary("signalling close", [&] { c->hub->disconnected(c->id); });
        };
        handlers_.push_back(g_signal_connect_data(ws_.get(), "message", G_CALLBACK(on_message), new Ctx{&hub, id}, free_ctx, GConnectFlags(0)));
        handlers_.push_back(g_signal_connect_data(ws_.get(), "closed", G_CALLBACK(on_closed), new Ctx{&hub, id}, free_ctx, GConnectFlags(0)));
    }

private:
    GRef<SoupWebsocketConnection> ws_;
    std::vector<gulong> handlers_;
};

}  // namespace

void make_soup_link(Hub& hub, SoupWebsocketConnection* ws, const std::string& address) {
    // Frames over our limit get a clean 1009 from the parser; libsoup drops the
    // connection only for the absurd ones, before buffering them.
    g_object_set(ws, "max-incoming-payload-size", guint64(4 * kMaxMessageBytes), "keepalive-interval", 20u, nullptr);
    auto link = std::make_unique<SoupLink>(ws);
    SoupLink* raw = link.get();
    const std::string id = hub.connect(std::move(link), address);
    raw->listen(hub, id);
}

}  // namespace consult::signalling
