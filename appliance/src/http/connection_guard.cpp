#include "appliance/http/connection_guard.hpp"

#include "appliance/log.hpp"
#include "guarded_stream.hpp"
#include "hwconfig/c_boundary.hpp"
#include "hwconfig/main_loop.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace consult::http {

namespace {

using Phase = ConnectionTable::Phase;
using Clock = std::chrono::steady_clock;

// Accepting that keeps failing this long (descriptors exhausted) makes the watchdog go hungry.
constexpr auto kFailingTooLong = std::chrono::seconds(20);
// After a failed accept, the listener rests this long before trying again.
constexpr auto kAcceptPause = std::chrono::milliseconds(250);
// At most this many connections taken per wake-up, so one flood cannot hog the loop.
constexpr int kAcceptsPerWake = 64;

const std::string& refusal() {
    static const std::string body =
        R"({"error":{"code":"too_many_connections","message":"the appliance is busy; try again shortly"}})";
    static const std::string text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 5\r\n"
                                    "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return text;
}

std::string address_of(GSocketAddress* a, bool with_port) {
    if (!a || !G_IS_INET_SOCKET_ADDRESS(a)) return "";
    auto* inet = G_INET_SOCKET_ADDRESS(a);
    GCharPtr ip(g_inet_address_to_string(g_inet_socket_address_get_address(inet)));
    std::string out = ip ? ip.get() : "";
    if (with_port) out += ":" + std::to_string(g_inet_socket_address_get_port(inet));
    return out;
}

// libsoup keeps a connection alive after an answer only while it has a listener of its
// own. This one, an abstract Unix socket with a random name, is never connected to.
GRef<GSocket> keepalive_listener(SoupServer* server) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return {};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    std::string name = "consultd-keepalive-";
    for (unsigned char c : rnd) name += "0123456789abcdef"[c & 15];
    std::memcpy(addr.sun_path + 1, name.data(), name.size());   // sun_path[0] = 0: abstract
    const socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 1) != 0) {
        ::close(fd);
        return {};
    }
    GRef<GSocket> sock = adopt(g_socket_new_from_fd(fd, nullptr));
    if (!sock) {
        ::close(fd);
        return {};
    }
    if (!soup_server_listen_socket(server, sock.get(), SoupServerListenOptions(0), nullptr)) return {};
    return sock;
}

}  // namespace

unsigned long raise_file_limit() {
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 1024;
    if (l.rlim_cur < l.rlim_max) {
        rlimit raised = l;
        raised.rlim_cur = l.rlim_max == RLIM_INFINITY ? 65536 : l.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) l = raised;
    }
    return l.rlim_cur == RLIM_INFINITY ? 65536ul : static_cast<unsigned long>(l.rlim_cur);
}

ConnectionGuard::ConnectionGuard(SoupServer* server, ConnectionTable::Limits limits, Metrics& metrics)
    : server_(server), table_(limits), metrics_(metrics) {
    started_handler_ = g_signal_connect(server, "request-started", G_CALLBACK(&ConnectionGuard::on_request_started), this);
    sweep_timer_ = g_timeout_add_seconds(1, [](gpointer p) -> gboolean {
        at_boundary("connection sweep", [&] { static_cast<ConnectionGuard*>(p)->sweep(); });
        return G_SOURCE_CONTINUE;
    }, this);
    keepalive_listener_ = keepalive_listener(server);
    if (!keepalive_listener_) log::warning("could not set up HTTP keep-alive; every request will use a new connection");
}

ConnectionGuard::~ConnectionGuard() {
    *alive_ = false;
    g_signal_handler_disconnect(server_, started_handler_);
    g_source_remove(sweep_timer_);
    for (auto& l : listeners_)
        if (l->source) {
            g_source_destroy(l->source);
            g_source_unref(l->source);
        }
    for (auto& [id, c] : conns_) c.watch->closed = nullptr;
}

void ConnectionGuard::listen(GSocket* listening, GTlsCertificate* tls) {
    auto l = std::make_unique<Listener>();
    l->socket = retain(listening);
    if (tls) l->tls = retain(tls);
    g_socket_set_blocking(listening, FALSE);
    attach(*l);
    listeners_.push_back(std::move(l));
}

void ConnectionGuard::attach(Listener& l) {
    l.source = g_socket_create_source(l.socket.get(), G_IO_IN, nullptr);
    struct Ctx {
        ConnectionGuard* guard;
        Listener* listener;
    };
    GSocketSourceFunc on_ready = [](GSocket*, GIOCondition, gpointer p) -> gboolean {
        auto* c = static_cast<Ctx*>(p);
        at_boundary("http accept", [&] { c->guard->accept_from(*c->listener); });
        return c->listener->source ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
    };
    // A socket source calls back with the socket and condition first (GSocketSourceFunc).
    g_source_set_callback(l.source, G_SOURCE_FUNC(on_ready), new Ctx{this, &l}, [](gpointer p) { delete static_cast<Ctx*>(p); });
    g_source_attach(l.source, g_main_context_get_thread_default());
}

void ConnectionGuard::accept_from(Listener& l) {
    for (int i = 0; i < kAcceptsPerWake; ++i) {
        GError* err = nullptr;
        GSocket* s = g_socket_accept(l.socket.get(), nullptr, &err);
        if (!s) {
            const bool would_block = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            if (!would_block) {
                // Out of descriptors (or memory): rest a moment and try again, never give up.
                ++accept_failures_;
                if (l.failing_since == Clock::time_point{}) {
                    l.failing_since = Clock::now();
                    log::warning(std::string("cannot accept connections for now: ") + (err ? err->message : "?"));
                }
                metrics_.count("consult_http_accept_failures_total", {});
                g_source_destroy(l.source);
                g_source_unref(l.source);
                l.source = nullptr;
                later(kAcceptPause, [this, &l, alive = std::weak_ptr<bool>(alive_)] {
                    if (alive.lock() && !l.source) attach(l);
                }, "http accept retry");
            }
            g_clear_error(&err);
            return;
        }
        if (l.failing_since != Clock::time_point{}) {
            log::info("accepting connections again");
            l.failing_since = {};
        }
        admit(l, adopt(s));
    }
}

void ConnectionGuard::refuse(GSocket* socket, bool tls, const char* why) {
    ++refused_;
    metrics_.count("consult_http_connections_refused_total", {{"reason", why}});
    // A plain-HTTP client is told why; a TLS one only sees the connection close.
    if (!tls) g_socket_send(socket, refusal().data(), refusal().size(), nullptr, nullptr);
    g_socket_close(socket, nullptr);
}

void ConnectionGuard::admit(Listener& l, GRef<GSocket> socket) {
    ++accepted_;
    GRef<GSocketAddress> local = adopt(g_socket_get_local_address(socket.get(), nullptr));
    GRef<GSocketAddress> remote = adopt(g_socket_get_remote_address(socket.get(), nullptr));
    const std::string address = address_of(remote.get(), false), key = address_of(remote.get(), true);
    const ConnectionTable::Id id = ++next_id_;
    auto admission = table_.admit(id, address, Clock::now());
    if (admission.evict) {   // gone from the table already; here it is closed
        metrics_.count("consult_http_connections_closed_total", {{"reason", "evicted"}});
        if (auto it = conns_.find(*admission.evict); it != conns_.end()) g_socket_shutdown(it->second.socket.get(), TRUE, TRUE, nullptr);
    }
    if (admission.verdict != ConnectionTable::Verdict::Admitted) {
        refuse(socket.get(), bool(l.tls), admission.verdict == ConnectionTable::Verdict::AddressFull ? "address" : "server");
        return;
    }
    g_socket_set_option(socket.get(), IPPROTO_TCP, TCP_NODELAY, TRUE, nullptr);
    GRef<GIOStream> base = adopt(G_IO_STREAM(g_socket_connection_factory_create_connection(socket.get())));
    if (l.tls) {
        GError* err = nullptr;
        GRef<GIOStream> tls = adopt(G_IO_STREAM(g_tls_server_connection_new(base.get(), l.tls.get(), &err)));
        if (!tls) {
            log::warning(std::string("TLS is not available for a connection: ") + (err ? err->message : "?"));
            g_clear_error(&err);
            table_.closed(id);
            g_socket_close(socket.get(), nullptr);
            return;
        }
        g_object_set(tls.get(), "require-close-notify", FALSE, nullptr);
        base = std::move(tls);
    }
    auto watch = std::make_shared<StreamWatch>();
    watch->closed = [this, id, key, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        table_.closed(id);
        conns_.erase(id);
        if (auto it = by_remote_.find(key); it != by_remote_.end() && it->second == id) by_remote_.erase(it);
    };
    conns_[id] = {socket, watch};
    by_remote_[key] = id;
    GRef<GIOStream> guarded = adopt(guarded_stream_new(base.get(), watch));
    GError* err = nullptr;
    if (!soup_server_accept_iostream(server_, guarded.get(), local.get(), remote.get(), &err)) {
        log::warning(std::string("libsoup did not take a connection: ") + (err ? err->message : "?"));
        g_clear_error(&err);
        g_io_stream_close(guarded.get(), nullptr, nullptr);
    }
}

std::optional<ConnectionTable::Id> ConnectionGuard::id_of(SoupServerMessage* msg) const {
    auto it = by_remote_.find(address_of(soup_server_message_get_remote_address(msg), true));
    if (it == by_remote_.end()) return std::nullopt;
    return it->second;
}

void ConnectionGuard::on_request_started(SoupServer*, SoupServerMessage* msg, gpointer self) {
    at_boundary("http request-started", [&] {
        auto* g = static_cast<ConnectionGuard*>(self);
        auto id = g->id_of(msg);
        if (!id) return;   // libsoup's own listener (keep-alive only) or unknown
        // The first request of a connection starts at accept; a later one at its first byte.
        if (g->table_.phase_of(*id) != Phase::Waiting) g->table_.set_phase(*id, Phase::Headers, Clock::now());
        struct Hook {
            const char* signal;
            Phase phase;
        };
        static constexpr Hook hooks[] = {{"got-headers", Phase::Body}, {"got-body", Phase::Handling}, {"finished", Phase::Idle}};
        for (const Hook& h : hooks)
            g_signal_connect_data(msg, h.signal, G_CALLBACK(&ConnectionGuard::on_phase),
                                  new std::pair<ConnectionGuard*, Phase>(g, h.phase),
                                  [](gpointer p, GClosure*) { delete static_cast<std::pair<ConnectionGuard*, Phase>*>(p); },
                                  GConnectFlags(0));
        g_signal_connect(msg, "wrote-informational", G_CALLBACK(&ConnectionGuard::on_informational), g);
    });
}

void ConnectionGuard::on_phase(SoupServerMessage* msg, gpointer data) {
    auto* c = static_cast<std::pair<ConnectionGuard*, Phase>*>(data);
    at_boundary("http phase", [&] { c->first->phase(msg, c->second); });
}

void ConnectionGuard::on_informational(SoupServerMessage* msg, gpointer self) {
    if (soup_server_message_get_status(msg) == SOUP_STATUS_SWITCHING_PROTOCOLS)
        at_boundary("http upgrade", [&] { static_cast<ConnectionGuard*>(self)->phase(msg, Phase::Upgraded); });
}

void ConnectionGuard::phase(SoupServerMessage* msg, Phase p) {
    auto id = id_of(msg);
    if (!id || table_.phase_of(*id) == Phase::Upgraded) return;
    // Headers arriving on a waiting connection: its first request is under way.
    if (p == Phase::Body && table_.phase_of(*id) == Phase::Waiting) table_.set_phase(*id, Phase::Headers, Clock::now());
    table_.set_phase(*id, p, Clock::now());
    if (p == Phase::Idle)
        if (auto it = conns_.find(*id); it != conns_.end()) it->second.watch->at_boundary = true;
}

void ConnectionGuard::shut(ConnectionTable::Id id, const char* why) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    metrics_.count("consult_http_connections_closed_total", {{"reason", why}});
    // libsoup reads the end of the stream and closes the connection itself.
    g_socket_shutdown(it->second.socket.get(), TRUE, TRUE, nullptr);
    table_.closed(id);
}

void ConnectionGuard::sweep() {
    for (ConnectionTable::Id id : table_.overdue(Clock::now())) shut(id, "timeout");
}

bool ConnectionGuard::accepting() const {
    const auto now = Clock::now();
    for (const auto& l : listeners_)
        if (l->failing_since != Clock::time_point{} && now - l->failing_since > kFailingTooLong) return false;
    return true;
}

std::string ConnectionGuard::metrics_text() const {
    std::string o = "# HELP consult_http_connections Open HTTP connections by phase.\n# TYPE consult_http_connections gauge\n";
    for (Phase p : {Phase::Waiting, Phase::Idle, Phase::Headers, Phase::Body, Phase::Handling, Phase::Upgraded})
        o += "consult_http_connections{phase=\"" + std::string(phase_name(p)) + "\"} " + std::to_string(table_.in_phase(p)) + "\n";
    o += "# HELP consult_http_connections_limit The cap on open HTTP connections.\n# TYPE consult_http_connections_limit gauge\n"
         "consult_http_connections_limit " + std::to_string(table_.limits().max_total) + "\n";
    o += "# HELP consult_http_connections_accepted_total Connections accepted.\n# TYPE consult_http_connections_accepted_total counter\n"
         "consult_http_connections_accepted_total " + std::to_string(accepted_) + "\n";
    return o;
}

}  // namespace consult::http
