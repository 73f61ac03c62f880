// What the daemon's parts share: configuration, the store, metrics, tokens and
// what the hardware probe found. Owned by the Daemon, borrowed by route handlers.
#pragma once

#include "appliance/config.hpp"
#include "appliance/http/rate_limit.hpp"
#include "appliance/metrics.hpp"
#include "appliance/store/database.hpp"
#include "appliance/tokens/token_service.hpp"
#include "hwconfig/probe.hpp"

#include <filesystem>
#include <optional>

namespace consult {

struct ApplianceContext {
    Config config;
    std::filesystem::path state_dir;
    store::Database db;
    Metrics metrics;
    tokens::TokenService tokens;
    std::optional<hw::ProbeResult> probe;   // empty until the probe has run
    bool demo = false;
    http::RateLimiter limiter{config.http.rate_limit_per_minute, config.http.rate_limit_burst};
};

const char* version();

}  // namespace consult
