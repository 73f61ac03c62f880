// What the daemon owns and its parts share: configuration, the store, metrics, tokens
// and what the hardware probe found. Owned by the Daemon and never handed out whole:
// each part gets the pieces it uses (wiring.hpp for the routes, daemon.cpp for the rest).
#pragma once

#include "appliance/config.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/live_rooms.hpp"
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
namespace recording { class Recordings; }
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
    std::shared_ptr<recording::Recordings> recordings;   // null in tools
    store::AuditBatch* audits = nullptr;   // group-committed audit rows (the daemon's); null: written at once

    LiveRooms rooms;   // the signalling hub's side, hooked in once it runs
    // Extra Prometheus text appended to /metrics (live calls, per-peer link stats).
    std::vector<std::function<std::string()>> metric_sources;
};

}  // namespace consult
