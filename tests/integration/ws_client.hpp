// A blocking WebSocket client for the signalling tests: libsoup's client on a
// private main context, iterated only while the test waits, with a hard timeout on
// every wait.
#pragma once

#include "hwconfig/gref.hpp"

#include <libsoup/soup.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

namespace consult::test {

class WsClient {
public:
    using json = nlohmann::json;

    ~WsClient() {
        Pushed on(context_.get());
        if (ws_) {
            g_signal_handlers_disconnect_by_data(ws_.get(), this);
            if (soup_websocket_connection_get_state(ws_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
                soup_websocket_connection_close(ws_.get(), 1000, nullptr);
        }
        ws_.reset();
        session_.reset();
        while (g_main_context_iteration(context_.get(), FALSE)) {}
    }

    // Connects to ws://127.0.0.1:<port>/ws; nullptr (with `error`) when it fails.
    static std::unique_ptr<WsClient> connect(int port, std::string* error = nullptr,
                                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        auto c = std::unique_ptr<WsClient>(new WsClient());
        Pushed on(c->context_.get());
        c->session_ = adopt(soup_session_new());
        const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/ws";
        GRef<SoupMessage> msg = adopt(soup_message_new("GET", url.c_str()));
        bool done = false;
        GError* err = nullptr;
        struct Pending {
            WsClient* c;
            bool* done;
            GError** err;
        } pending{c.get(), &done, &err};
        soup_session_websocket_connect_async(
            c->session_.get(), msg.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
            [](GObject* src, GAsyncResult* res, gpointer p) {
                auto* pd = static_cast<Pending*>(p);
                auto* ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, pd->err);
                if (ws) pd->c->ws_ = adopt(ws);
                *pd->done = true;
            },
            &pending);
        c->iterate_until([&] { return done; }, timeout);
        if (!c->ws_) {
            if (error) *error = err ? err->message : "timed out";
            if (err) g_error_free(err);
            return nullptr;
        }
        g_object_set(c->ws_.get(), "max-incoming-payload-size", guint64(1 << 20), nullptr);
        g_signal_connect(c->ws_.get(), "message", G_CALLBACK(+[](SoupWebsocketConnection*, gint, GBytes* b, gpointer p) {
            gsize n = 0;
            auto* d = static_cast<const char*>(g_bytes_get_data(b, &n));
            static_cast<WsClient*>(p)->inbox_.emplace_back(d, n);
        }), c.get());
        g_signal_connect(c->ws_.get(), "closed", G_CALLBACK(+[](SoupWebsocketConnection* ws, gpointer p) {
            auto* self = static_cast<WsClient*>(p);
            self->closed_ = true;
            self->close_code_ = soup_websocket_connection_get_close_code(ws);
            const char* data = soup_websocket_connection_get_close_data(ws);
            self->close_reason_ = data ? data : "";
        }), c.get());
        return c;
    }

    void send(const json& m) { send_text(m.dump()); }
    void send_text(const std::string& text) {
        Pushed on(context_.get());
        if (ws_ && soup_websocket_connection_get_state(ws_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_send_text(ws_.get(), text.c_str());
        pump();
    }
    void close() {
        Pushed on(context_.get());
        if (ws_ && soup_websocket_connection_get_state(ws_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
            soup_websocket_connection_close(ws_.get(), 1000, nullptr);
        iterate_until([&] { return closed_; }, std::chrono::seconds(5));
    }

    // The next message, whatever its type.
    std::optional<json> next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        iterate_until([&] { return !inbox_.empty() || closed_; }, timeout);
        if (inbox_.empty()) return std::nullopt;
        std::string text = std::move(inbox_.front());
        inbox_.pop_front();
        return json::parse(text, nullptr, false);
    }

    // The next message of this type; others before it are kept in `skipped`.
    std::optional<json> wait_for(const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < until) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            auto m = next(left);
            if (!m) return std::nullopt;
            if (m->is_object() && m->value("type", "") == type) return m;
            skipped.push_back(*m);
        }
        return std::nullopt;
    }

    // Waits for the server to close the socket; its close code (0 on timeout).
    int wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        iterate_until([&] { return closed_; }, timeout);
        return closed_ ? close_code_ : 0;
    }
    bool is_closed() {
        Pushed on(context_.get());   // sources libsoup makes while pumping stay on this context
        pump();
        return closed_;
    }
    const std::string& close_reason() const { return close_reason_; }

    std::vector<json> skipped;

private:
    WsClient() : context_(g_main_context_new()) {}

    // Sources libsoup creates while this is alive go to the client's own context.
    struct Pushed {
        explicit Pushed(GMainContext* c) : c_(c) { g_main_context_push_thread_default(c_); }
        ~Pushed() { g_main_context_pop_thread_default(c_); }
        GMainContext* c_;
    };
    struct ContextUnref {
        void operator()(GMainContext* c) const { g_main_context_unref(c); }
    };

    void pump() { while (g_main_context_iteration(context_.get(), FALSE)) {} }

    template <class Pred>
    void iterate_until(Pred done, std::chrono::milliseconds timeout) {
        Pushed on(context_.get());
        const auto until = std::chrono::steady_clock::now() + timeout;
        while (!done() && std::chrono::steady_clock::now() < until) {
            if (!g_main_context_iteration(context_.get(), FALSE)) g_usleep(2000);
        }
    }

    std::unique_ptr<GMainContext, ContextUnref> context_;
    GRef<SoupSession> session_;
    GRef<SoupWebsocketConnection> ws_;
    std::deque<std::string> inbox_;
    bool closed_ = false;
    int close_code_ = 0;
    std::string close_reason_;
};

}  // namespace consult::test
