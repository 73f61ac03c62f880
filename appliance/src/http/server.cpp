#include "appliance/http/server.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/log.hpp"
#include "appliance/store/database.hpp"

#include <chrono>
#include <cstdlib>

namespace consult::http {

namespace {

void send(SoupServerMessage* msg, const Response& r) {
    soup_server_message_set_status(msg, guint(r.status), nullptr);
    auto* headers = soup_server_message_get_response_headers(msg);
    for (const auto& [k, v] : r.headers) soup_message_headers_replace(headers, k.c_str(), v.c_str());
    soup_message_headers_replace(headers, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    if (r.status == 204 || r.status == 304) {
        // No body and no Content-Type. libsoup drops the length headers of such a
        // response as it writes it, and then reads "no length" as "body until EOF" and
        // closes the connection: a client that had already sent its next request on it
        // got "other side closed". Once the headers are out, say there is no body.
        soup_message_headers_remove(headers, "Content-Type");
        g_signal_connect(msg, "wrote-headers", G_CALLBACK(+[](SoupServerMessage* m, gpointer) {
            soup_message_headers_set_encoding(soup_server_message_get_response_headers(m), SOUP_ENCODING_NONE);
        }), nullptr);
        return;
    }
    soup_server_message_set_response(msg, r.content_type.c_str(), SOUP_MEMORY_COPY, r.body.data(), r.body.size());
}

// A body without a Content-Length (chunked) is collected here, up to the limit, instead
// of by libsoup, which would keep all of it however large it grows.
constexpr const char* kBoundedBody = "consult-bounded-body";

struct BoundedBody {
    std::string data;
    long limit;
    bool too_large = false;
};

void on_chunk(SoupServerMessage*, GBytes* chunk, gpointer p) {
    auto* body = static_cast<BoundedBody*>(p);
    gsize n = 0;
    auto* data = static_cast<const char*>(g_bytes_get_data(chunk, &n));
    if (body->too_large || long(body->data.size() + n) > body->limit) {
        body->too_large = true;
        body->data.clear();
        return;
    }
    body->data.append(data, n);
}

std::string client_address(SoupServerMessage* msg) {
    const char* host = soup_server_message_get_remote_host(msg);
    return host ? host : "";
}

}  // namespace

Server::Server(Router router, Metrics& metrics, long max_body_bytes)
    : router_(std::move(router)), metrics_(metrics), max_body_bytes_(max_body_bytes),
      server_(adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "consultd", nullptr)))) {
    soup_server_add_early_handler(server_.get(), nullptr, &Server::on_early, this, nullptr);
    soup_server_add_handler(server_.get(), nullptr, &Server::on_request, this, nullptr);
}

Server::~Server() {
    soup_server_disconnect(server_.get());
}

namespace {

// Our own socket: GLib's default listen queue of 10 drops connections under load.
std::expected<GRef<GSocket>, std::string> listening_socket(const std::string& bind, int port) {
    auto addr = adopt(g_inet_socket_address_new_from_string(bind.c_str(), guint(port)));
    if (!addr) return std::unexpected("'" + bind + "' is not an IP address to bind to");
    const std::string where = bind + ":" + std::to_string(port);
    GErrorOut err;
    auto sock = adopt(g_socket_new(g_socket_address_get_family(addr.get()), G_SOCKET_TYPE_STREAM,
                                   G_SOCKET_PROTOCOL_TCP, err.out()));
    if (!sock) return std::unexpected("cannot create a socket for " + where + ": " + err.message());
    g_socket_set_listen_backlog(sock.get(), 1024);
    if (!g_socket_bind(sock.get(), addr.get(), TRUE, err.out()) || !g_socket_listen(sock.get(), err.out()))
        return std::unexpected("cannot listen on " + where + ": " + err.message());
    return sock;
}

}  // namespace

std::expected<void, std::string> Server::listen(const std::string& bind, int port) {
    auto sock = listening_socket(bind, port);
    if (!sock) return std::unexpected(sock.error());
    GErrorOut err;
    if (!soup_server_listen_socket(server_.get(), sock->get(), SoupServerListenOptions(0), err.out()))
        return std::unexpected("cannot listen on " + bind + ":" + std::to_string(port) + ": " + err.message());
    return {};
}

std::expected<void, std::string> Server::listen_tls(const std::string& bind, int port, const std::string& certificate,
                                                    const std::string& key) {
    GErrorOut err;
    auto cert = adopt(g_tls_certificate_new_from_files(certificate.c_str(), key.c_str(), err.out()));
    if (!cert) return std::unexpected("TLS certificate " + certificate + " / key " + key + ": " + err.message());
    g_object_set(server_.get(), "tls-certificate", cert.get(), nullptr);
    auto sock = listening_socket(bind, port);
    if (!sock) return std::unexpected(sock.error());
    if (!soup_server_listen_socket(server_.get(), sock->get(), SOUP_SERVER_LISTEN_HTTPS, err.out()))
        return std::unexpected("cannot listen with TLS on " + bind + ":" + std::to_string(port) + ": " + err.message());
    return {};
}

// Refuses an oversized body from its Content-Length before reading it.
void Server::on_early(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer self) {
    auto* s = static_cast<Server*>(self);
    auto* headers = soup_server_message_get_request_headers(msg);
    goffset length = soup_message_headers_get_content_length(headers);
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CHUNKED) {
        soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
        auto* body = new BoundedBody{{}, s->max_body_bytes_};
        g_object_set_data_full(G_OBJECT(msg), kBoundedBody, body, [](gpointer p) { delete static_cast<BoundedBody*>(p); });
        g_signal_connect(msg, "got-chunk", G_CALLBACK(on_chunk), body);
        return;
    }
    if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH && length > s->max_body_bytes_) {
        send(msg, error_response(413, "body_too_large",
                                 "the request body is larger than " + std::to_string(s->max_body_bytes_) + " bytes"));
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
        s->metrics_.http_request("(early)", soup_server_message_get_method(msg), 413, 0);
    }
}

Response Server::dispatch(Request& req, std::string& route_label) const {
    route_label = "(unmatched)";
    if (long(req.body.size()) > max_body_bytes_)
        return error_response(413, "body_too_large",
                              "the request body is larger than " + std::to_string(max_body_bytes_) + " bytes");
    auto m = router_.match(req.method, req.path);
    if (std::holds_alternative<NotFound>(m))
        return error_response(404, "not_found", "no such resource: " + req.path);
    if (auto* wrong = std::get_if<MethodNotAllowed>(&m)) {
        route_label = wrong->pattern;
        std::string allow;
        for (const auto& a : wrong->allowed) allow += (allow.empty() ? "" : ", ") + a;
        auto r = error_response(405, "method_not_allowed", req.method + " is not allowed here; use " + allow);
        r.headers.emplace_back("Allow", allow);
        return r;
    }
    auto& matched = std::get<Matched>(m);
    route_label = matched.route->pattern;
    req.params = std::move(matched.params);
    try {
        return matched.route->handler(req);
    } catch (const ApiError& e) {
        auto r = error_response(e.status(), e.code(), e.what(), e.field());
        if (e.status() == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
        r.headers.insert(r.headers.end(), e.headers().begin(), e.headers().end());
        return r;
    } catch (const domain::DomainError& e) {
        using K = domain::DomainError::Kind;
        const int status = e.kind() == K::NotFound ? 404 : e.kind() == K::Conflict ? 409
                         : e.kind() == K::Forbidden ? 403 : 422;
        return error_response(status, e.code(), e.what(), e.field());
    } catch (const store::StoreError& e) {
        log::error(std::string("store error: ") + e.what(), {{"ROUTE", route_label}});
        if (e.is_busy()) return error_response(503, "store_busy", "the appliance is busy; try again");
        return error_response(500, "store_error", "the appliance could not save or read this");
    } catch (const std::exception& e) {
        log::error(std::string("handler failed: ") + e.what(), {{"ROUTE", route_label}});
        return error_response(500, "internal_error", "something went wrong inside the appliance");
    }
}

void Server::on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable* query, gpointer self) {
    auto* s = static_cast<Server*>(self);
    if (soup_server_message_get_status(msg) == 413) return;  // answered by the early handler
    const auto started = std::chrono::steady_clock::now();

    Request req;
    req.method = soup_server_message_get_method(msg);
    req.path = path;
    req.client_address = client_address(msg);
    if (const char* raw = g_uri_get_query(soup_server_message_get_uri(msg))) req.raw_query = raw;
    if (query) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, query);
        while (g_hash_table_iter_next(&it, &k, &v)) req.query[static_cast<char*>(k)] = static_cast<char*>(v);
    }
    SoupMessageHeadersIter hit;
    const char *name, *value;
    soup_message_headers_iter_init(&hit, soup_server_message_get_request_headers(msg));
    while (soup_message_headers_iter_next(&hit, &name, &value)) {
        GCharPtr lower(g_ascii_strdown(name, -1));
        req.headers[lower.get()] = value;
    }
    if (auto* bounded = static_cast<BoundedBody*>(g_object_get_data(G_OBJECT(msg), kBoundedBody))) {
        if (bounded->too_large) {
            send(msg, error_response(413, "body_too_large",
                                     "the request body is larger than " + std::to_string(s->max_body_bytes_) + " bytes"));
            s->metrics_.http_request("(unmatched)", soup_server_message_get_method(msg), 413, 0);
            return;
        }
        req.body = std::move(bounded->data);
    } else if (SoupMessageBody* body = soup_server_message_get_request_body(msg); body && body->length > 0) {
        GBytesPtr bytes(soup_message_body_flatten(body));
        gsize n = 0;
        auto* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &n));
        req.body.assign(data, n);
    }

    std::string route;
    Response r = s->dispatch(req, route);
    if (r.deferred) {
        // Held until the handler's work is done; the message keeps itself alive meanwhile.
        soup_server_message_pause(msg);
        r.deferred([held = retain(msg), metrics = &s->metrics_, alive = std::weak_ptr<bool>(s->alive_), route, method = req.method,
                    started](Response done) {
            if (!alive.lock()) return;
            send(held.get(), done);
            soup_server_message_unpause(held.get());
            metrics->http_request(route, method, done.status,
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        });
        return;
    }
    send(msg, r);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    s->metrics_.http_request(route, req.method, r.status, secs);
}

}  // namespace consult::http
