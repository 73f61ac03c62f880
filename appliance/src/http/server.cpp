#include "appliance/http/server.hpp"

#include "appliance/domain/errors.hpp"
#include "appliance/http/audit_scope.hpp"
#include "appliance/input/json_input.hpp"
#include "appliance/log.hpp"
#include "hwconfig/c_boundary.hpp"
#include "appliance/store/database.hpp"

#include <chrono>
#include <cstdlib>

namespace consult::http {

namespace {

// A file's slice as the body: mapped, so a large recording is neither copied nor read
// on the main loop up front.
void send_file(SoupServerMessage* msg, const Response& r) {
    auto* headers = soup_server_message_get_response_headers(msg);
    GError* err = nullptr;
    GMappedFile* mapped = r.file->length ? g_mapped_file_new(r.file->path.c_str(), FALSE, &err) : nullptr;
    if (r.file->length && (!mapped || g_mapped_file_get_length(mapped) < r.file->offset + r.file->length)) {
        if (err) g_error_free(err);
        if (mapped) g_mapped_file_unref(mapped);
        soup_server_message_set_status(msg, 500, nullptr);
        const std::string body = R"({"error":{"code":"file_unreadable","message":"the file could not be read"}})";
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
        return;
    }
    soup_message_headers_set_content_type(headers, r.file->length ? r.content_type.c_str() : "application/octet-stream", nullptr);
    // Said up front: a body appended piecewise would otherwise go out chunked, and a
    // browser's media player cannot seek in a range answer of unknown length.
    soup_message_headers_set_content_length(headers, goffset(r.file->length));
    if (mapped) {
        GBytes* all = g_mapped_file_get_bytes(mapped);
        GBytes* slice = g_bytes_new_from_bytes(all, r.file->offset, r.file->length);
        soup_message_body_append_bytes(soup_server_message_get_response_body(msg), slice);
        g_bytes_unref(slice);
        g_bytes_unref(all);
        g_mapped_file_unref(mapped);
    }
    soup_message_body_complete(soup_server_message_get_response_body(msg));
}

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
    if (r.file) {
        send_file(msg, r);
        return;
    }
    soup_server_message_set_response(msg, r.content_type.c_str(), SOUP_MEMORY_COPY, r.body.data(), r.body.size());
}

// A request whose body is over the limit is answered and closed at once: the
// connection is taken from libsoup, the 413 written on it, and the body never read.
void answer_and_close(SoupServerMessage* msg, long limit) {
    const std::string body = input::dump(
        {{"error", {{"code", "body_too_large"}, {"message", "the request body is larger than " + std::to_string(limit) + " bytes"}}}});
    struct Reply {
        GRef<GIOStream> stream;
        std::string bytes;
    };
    auto* reply = new Reply{adopt(soup_server_message_steal_connection(msg)),
                            "HTTP/1.1 413 Content Too Large\r\nContent-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body};
    if (!reply->stream) {
        delete reply;
        return;
    }
    g_output_stream_write_all_async(
        g_io_stream_get_output_stream(reply->stream.get()), reply->bytes.data(), reply->bytes.size(), G_PRIORITY_DEFAULT,
        nullptr,
        [](GObject* out, GAsyncResult* result, gpointer p) {
            auto* r = static_cast<Reply*>(p);
            g_output_stream_write_all_finish(G_OUTPUT_STREAM(out), result, nullptr, nullptr);
            g_io_stream_close_async(r->stream.get(), G_PRIORITY_DEFAULT, nullptr,
                                    [](GObject* s, GAsyncResult* res, gpointer q) {
                                        g_io_stream_close_finish(G_IO_STREAM(s), res, nullptr);
                                        delete static_cast<Reply*>(q);
                                    },
                                    r);
        },
        reply);
}

// A body without a Content-Length (chunked) is collected here, up to the limit, instead
// of by libsoup, which would keep all of it however large it grows.
constexpr const char* kBoundedBody = "consult-bounded-body";

struct BoundedBody {
    std::string data;
    long limit;
    Metrics* metrics;
};

void on_chunk(SoupServerMessage* msg, GBytes* chunk, gpointer p) {
    at_boundary("http body chunk", [&] {
        auto* body = static_cast<BoundedBody*>(p);
        gsize n = 0;
        auto* data = static_cast<const char*>(g_bytes_get_data(chunk, &n));
        if (long(body->data.size() + n) > body->limit) {
            body->metrics->http_request("(early)", soup_server_message_get_method(msg), 413, 0);
            answer_and_close(msg, body->limit);   // frees `body` with the message's data
            return;
        }
        body->data.append(data, n);
    });
}

bool contains_encoded_nul(const char* text) { return text && std::string_view(text).find("%00") != std::string_view::npos; }

std::string client_address(SoupServerMessage* msg) {
    const char* host = soup_server_message_get_remote_host(msg);
    return host ? host : "";
}

}  // namespace

Server::Server(Router router, Metrics& metrics, ServerLimits limits)
    : router_(std::move(router)), metrics_(metrics), max_body_bytes_(limits.max_body_bytes),
      server_(adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "consultd", nullptr)))),
      guard_(std::make_unique<ConnectionGuard>(server_.get(), limits.connections, metrics)) {
    soup_server_add_early_handler(server_.get(), nullptr, &Server::on_early, this, nullptr);
    soup_server_add_handler(server_.get(), nullptr, &Server::on_request, this, nullptr);
}

Server::~Server() {
    guard_.reset();
    soup_server_disconnect(server_.get());
}

namespace {

// Our own socket: GLib's default listen queue of 10 drops connections under load.
expected<GRef<GSocket>, std::string> listening_socket(const std::string& bind, int port) {
    auto addr = adopt(g_inet_socket_address_new_from_string(bind.c_str(), guint(port)));
    if (!addr) return unexpected("'" + bind + "' is not an IP address to bind to");
    const std::string where = bind + ":" + std::to_string(port);
    GErrorOut err;
    auto sock = adopt(g_socket_new(g_socket_address_get_family(addr.get()), G_SOCKET_TYPE_STREAM,
                                   G_SOCKET_PROTOCOL_TCP, err.out()));
    if (!sock) return unexpected("cannot create a socket for " + where + ": " + err.message());
    g_socket_set_listen_backlog(sock.get(), 1024);
    if (!g_socket_bind(sock.get(), addr.get(), TRUE, err.out()) || !g_socket_listen(sock.get(), err.out()))
        return unexpected("cannot listen on " + where + ": " + err.message());
    return sock;
}

}  // namespace

expected<void, std::string> Server::listen(const std::string& bind, int port) {
    auto sock = listening_socket(bind, port);
    if (!sock) return unexpected(sock.error());
    guard_->listen(sock->get());
    return {};
}

expected<void, std::string> Server::listen_tls(const std::string& bind, int port, const std::string& certificate,
                                                    const std::string& key) {
    GErrorOut err;
    auto cert = adopt(g_tls_certificate_new_from_files(certificate.c_str(), key.c_str(), err.out()));
    if (!cert) return unexpected("TLS certificate " + certificate + " / key " + key + ": " + err.message());
    auto sock = listening_socket(bind, port);
    if (!sock) return unexpected(sock.error());
    guard_->listen(sock->get(), cert.get());
    return {};
}

// Refuses an oversized body from its Content-Length before reading it.
void Server::on_early(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer self) {
    at_boundary("http headers", [&] {
        auto* s = static_cast<Server*>(self);
        auto* headers = soup_server_message_get_request_headers(msg);
        goffset length = soup_message_headers_get_content_length(headers);
        if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CHUNKED) {
            soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
            auto* body = new BoundedBody{{}, s->max_body_bytes_, &s->metrics_};
            g_object_set_data_full(G_OBJECT(msg), kBoundedBody, body, [](gpointer p) { delete static_cast<BoundedBody*>(p); });
            g_signal_connect(msg, "got-chunk", G_CALLBACK(on_chunk), body);
            return;
        }
        if (soup_message_headers_get_encoding(headers) == SOUP_ENCODING_CONTENT_LENGTH && length > s->max_body_bytes_) {
            s->metrics_.http_request("(early)", soup_server_message_get_method(msg), 413, 0);
            answer_and_close(msg, s->max_body_bytes_);
        }
    });
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
    } catch (const input::FieldError& e) {
        using K = input::FieldError::Kind;
        const bool range = e.kind() == K::OutOfRange;
        return error_response(range ? 422 : 400,
                              e.kind() == K::Missing ? "missing_field" : range ? "invalid_value" : "invalid_type",
                              e.what(), e.field());
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
    at_boundary("http request", [&] { static_cast<Server*>(self)->serve(msg, path, query); });
}

void Server::serve(SoupServerMessage* msg, const char* path, GHashTable* query) {
    Server* s = this;
    const auto started = std::chrono::steady_clock::now();

    Request req;
    req.method = soup_server_message_get_method(msg);
    req.path = path;
    req.client_address = client_address(msg);
    if (const char* raw = g_uri_get_query(soup_server_message_get_uri(msg))) req.raw_query = raw;
    // libsoup hands query values over as C strings, cut at an encoded NUL: refuse them
    // rather than act on a value that is not what was sent.
    if (contains_encoded_nul(req.raw_query.c_str()) || contains_encoded_nul(g_uri_get_path(soup_server_message_get_uri(msg)))) {
        send(msg, error_response(400, "invalid_query", "the request's path or query holds an encoded NUL (%00)"));
        s->metrics_.http_request("(unmatched)", req.method, 400, 0);
        return;
    }
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
        req.body = std::move(bounded->data);
    } else if (SoupMessageBody* body = soup_server_message_get_request_body(msg); body && body->length > 0) {
        GBytesPtr bytes(soup_message_body_flatten(body));
        gsize n = 0;
        auto* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &n));
        req.body.assign(data, n);
    }

    std::string route;
    auto audits = std::make_shared<AuditScope>();
    Response r;
    {
        AuditScope::Open open(audits);
        r = s->dispatch(req, route);
    }
    if (audits->pending() && !r.deferred) {
        // The answer shows data whose reading is audited: it goes out once the audit
        // row is committed (grouped with the rest of this loop turn), never without it.
        soup_server_message_pause(msg);
        audits->when_settled([held = retain(msg), metrics = &s->metrics_, alive = std::weak_ptr<bool>(s->alive_), route,
                              method = req.method, started, r = std::move(r)](bool committed) {
            if (!alive.lock()) return;
            const Response out = committed ? r : error_response(503, "store_busy", "the appliance is busy; try again");
            send(held.get(), out);
            soup_server_message_unpause(held.get());
            metrics->http_request(route, method, out.status,
                                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        });
        return;
    }
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
