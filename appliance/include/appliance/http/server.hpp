// The libsoup 3 server: routes requests through the Router, maps errors to the one
// JSON error shape, enforces the body limit and records metrics.
#pragma once

#include "appliance/http/connection_guard.hpp"
#include "appliance/http/router.hpp"
#include "appliance/metrics.hpp"
#include "hwconfig/gref.hpp"

#include <libsoup/soup.h>

#include "hwconfig/expected.hpp"
#include <memory>
#include <string>

namespace consult::http {

struct ServerLimits {
    long max_body_bytes = 1 << 20;
    ConnectionTable::Limits connections;
};

class Server {
public:
    Server(Router router, Metrics& metrics, ServerLimits limits);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    expected<void, std::string> listen(const std::string& bind, int port);
    // HTTPS on another port with this PEM certificate chain and key (same routes).
    expected<void, std::string> listen_tls(const std::string& bind, int port, const std::string& certificate,
                                                const std::string& key);
    SoupServer* soup() const { return server_.get(); }
    const ConnectionGuard& connections() const { return *guard_; }
    const Router& router() const { return router_; }

    // Runs a request through routing and error mapping (also used by tests).
    Response dispatch(Request& request, std::string& route_label) const;

private:
    static void on_request(SoupServer*, SoupServerMessage*, const char* path, GHashTable* query, gpointer self);
    static void on_early(SoupServer*, SoupServerMessage*, const char* path, GHashTable* query, gpointer self);
    void serve(SoupServerMessage* msg, const char* path, GHashTable* query);

    Router router_;
    Metrics& metrics_;
    long max_body_bytes_;
    GRef<SoupServer> server_;
    std::unique_ptr<ConnectionGuard> guard_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   // for answers that come later
};

}  // namespace consult::http
