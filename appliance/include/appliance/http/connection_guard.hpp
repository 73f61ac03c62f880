// The HTTP server's front door. Connections are accepted here, not by libsoup: each
// is admitted by the ConnectionTable (a cap below the process's file limit, a share
// per client address) or refused at once with a plain 503; TLS is put on here for the
// HTTPS port; and each reaches libsoup through a guarded stream (guarded_stream.hpp)
// that reports its close and works around libsoup's kept-alive connection leak.
// Deadlines (first request, headers, body, idle) are applied from libsoup's own
// request signals. A failed accept (out of file descriptors) pauses accepting briefly
// instead of stopping it for good, as libsoup's listener would; accepting() is what
// the systemd watchdog asks before it is fed.
#pragma once

#include "appliance/http/connection_table.hpp"
#include "appliance/metrics.hpp"
#include "hwconfig/gref.hpp"

#include <libsoup/soup.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace consult::http {

struct StreamWatch;

class ConnectionGuard {
public:
    ConnectionGuard(SoupServer* server, ConnectionTable::Limits limits, Metrics& metrics);
    ~ConnectionGuard();
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

    // Accepts on `listening` from now on; with `tls`, speaks HTTPS with it.
    void listen(GSocket* listening, GTlsCertificate* tls = nullptr);

    // False while accepting has been failing for longer than the watchdog should wait.
    bool accepting() const;
    const ConnectionTable& table() const { return table_; }
    std::string metrics_text() const;

    // The per-second sweep (deadlines, a paused listener), also run by tests.
    void sweep();

private:
    struct Listener {
        GRef<GSocket> socket;
        GRef<GTlsCertificate> tls;
        GSource* source = nullptr;
        std::chrono::steady_clock::time_point failing_since{};
        std::chrono::steady_clock::time_point resume_at{};
    };
    struct Conn {
        GRef<GSocket> socket;
        std::shared_ptr<StreamWatch> watch;
    };

    static gboolean on_incoming(GSocket* socket, GIOCondition, gpointer self);
    void accept_from(Listener& l);
    void admit(Listener& l, GRef<GSocket> socket);
    void refuse(GSocket* socket, bool tls, const char* why);
    void attach(Listener& l);
    void shut(ConnectionTable::Id id, const char* why);
    static void on_request_started(SoupServer*, SoupServerMessage* msg, gpointer self);
    static void on_phase(SoupServerMessage* msg, gpointer data);
    static void on_informational(SoupServerMessage* msg, gpointer self);
    void phase(SoupServerMessage* msg, ConnectionTable::Phase p);
    std::optional<ConnectionTable::Id> id_of(SoupServerMessage* msg) const;

    SoupServer* server_;
    ConnectionTable table_;
    Metrics& metrics_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    std::map<ConnectionTable::Id, Conn> conns_;
    std::map<std::string, ConnectionTable::Id> by_remote_;   // "address:port" → id
    GRef<GSocket> keepalive_listener_;
    ConnectionTable::Id next_id_ = 0;
    unsigned long accepted_ = 0, refused_ = 0, accept_failures_ = 0;
    gulong started_handler_ = 0;
    guint sweep_timer_ = 0;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The file descriptor limit this process may use: the soft limit raised to the hard
// one (at start); the connection cap is set below it.
unsigned long raise_file_limit();

}  // namespace consult::http
