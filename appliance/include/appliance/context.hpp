// What the daemon's parts share: configuration, the store, metrics, tokens and
// what the hardware probe found. Owned by the Daemon, borrowed by route handlers.
#pragma once

#include "appliance/config.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/metrics.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/records.hpp"
#include "appliance/tokens/token_service.hpp"
#include "hwconfig/probe.hpp"

#include <filesystem>
#include <memory>
#include <functional>
#include <optional>
#include <vector>

namespace consult {

namespace notify { class Messaging; }
namespace store { class AuditBatch; }

struct ApplianceContext {
    Config config;
    std::filesystem::path state_dir;
    store::Database db;
    Metrics metrics;
    tokens::TokenService tokens;
    std::optional<hw::ProbeResult> probe;   // empty until the probe has run
    bool demo = false;
    http::RateLimiter limiter{config.http.rate_limit_per_minute, config.http.rate_limit_burst};
    std::shared_ptr<notify::Messaging> messaging;   // SMS, email, TURN (notify/messaging.hpp); null in tools
    store::AuditBatch* audits = nullptr;   // group-committed audit rows (the daemon's); null: written at once

    // Told after a session changed state (REST, sweeper, signalling), on the main loop.
    std::vector<std::function<void(const store::SessionRow&)>> session_listeners;
    void session_changed(const store::SessionRow& s) {
        for (const auto& f : session_listeners) f(s);
    }
    // True while a call has media running (set by the signalling hub's owner).
    std::function<bool()> call_running;
    // REST's admit on a consultation already in progress: lets the waiting screen in.
    std::function<bool(const std::string& session_id)> admit_waiting;
    // A token was given up (sign-out): its signalling screens close, a doctor's running calls end.
    std::function<void(const tokens::Claims&)> signed_out;
    // Extra Prometheus text appended to /metrics (live calls, per-peer link stats).
    std::vector<std::function<std::string()>> metric_sources;
};

const char* version();

}  // namespace consult
