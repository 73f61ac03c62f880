// /healthz, /metrics and /api/system/activity.
#include "appliance/http/routes.hpp"

#include "appliance/http/auth.hpp"
#include "appliance/store/session_store.hpp"
#include "appliance/hw_report.hpp"
#include "appliance/session_sweeper.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/version.hpp"
#include "hwconfig/c_boundary.hpp"

#include <chrono>
#include <cstring>
#include <memory>

namespace consult::http {

namespace {
// Below this on the state directory's disk, writes are about to fail: not healthy.
constexpr std::uint64_t kMinFreeBytes = 16 * 1024 * 1024;
using store::latest_schema_version;
}  // namespace

void add_system_routes(Router& router, const SystemDeps& deps) {
    // The store's health is looked at most once a second: /healthz may be polled hard.
    auto cached = std::make_shared<std::pair<std::chrono::steady_clock::time_point, store::StoreHealth>>();
    auto health_now = [deps, cached]() -> const store::StoreHealth& {
        const auto now = std::chrono::steady_clock::now();
        if (cached->first == std::chrono::steady_clock::time_point{} || now - cached->first > std::chrono::seconds(1))
            *cached = {now, store::check_health(deps.db, deps.state_dir, kMinFreeBytes)};
        return cached->second;
    };
    router.add("GET", "/healthz", [deps, health_now](const Request&) {
        const store::StoreHealth& health = health_now();
        nlohmann::json j{{"version", version()}, {"schema_version", nullptr}};
        j["db"] = health.name();
        if (!health.detail.empty()) j["db_detail"] = health.detail;
        if (health.state != store::StoreHealth::State::Broken) j["schema_version"] = latest_schema_version();
        if (deps.probe) {
            j["camera"] = source_to_json(deps.probe->camera);
            j["encoder"] = deps.probe->encoder ? nlohmann::json(deps.probe->encoder->factory) : nlohmann::json(nullptr);
        } else {
            j["camera"] = "probing";
            j["encoder"] = "probing";
        }
        const bool media_ok = !deps.probe || deps.probe->encoder;
        const bool degraded = !media_ok || health.state == store::StoreHealth::State::Busy;
        j["status"] = !health.serving() ? "unavailable" : degraded ? "degraded" : "ok";
        return Response::json(health.serving() ? 200 : 503, j);
    });
    router.add("GET", "/metrics", [deps, health_now](const Request&) {
        std::string text = deps.metrics.render(version()) + session_metrics(deps.db);
        // For the alert rules (packaging/prometheus): the store's state and the room camera.
        const char* state = health_now().name();
        text += "# HELP consult_store_state The store's health: 1 for its state now (ok, busy, full, error).\n"
                "# TYPE consult_store_state gauge\n";
        for (const char* s : {"ok", "busy", "full", "error"})
            text += std::string("consult_store_state{state=\"") + s + "\"} " + (std::strcmp(s, state) == 0 ? "1" : "0") + "\n";
        text += "# HELP consult_camera_present 1 while the room camera is a real device (0: a test picture; absent while probing).\n"
                "# TYPE consult_camera_present gauge\n";
        if (deps.probe)
            text += std::string("consult_camera_present ") + (deps.probe->camera.test_source ? "0" : "1") + "\n";
        for (const auto& source : deps.metric_sources) text += source();
        text += "# HELP consult_callback_errors_total Errors stopped where C called into the appliance, by place.\n"
                "# TYPE consult_callback_errors_total counter\n";
        for (const auto& [where, n] : boundary_failures())
            text += "consult_callback_errors_total{where=\"" + prometheus_escape(where) + "\"} " + std::to_string(n) + "\n";
        return Response::text(200, "text/plain; version=0.0.4; charset=utf-8", text);
    });
}

void add_activity_route(Router& router, const SystemDeps& deps) {
    // Whether anyone is in a consultation now: the updater (consultctl update) installs and
    // restarts only when nobody is. Admin only: it says whether a patient is on this box.
    router.add("GET", "/api/system/activity", [deps](const Request& req) {
        authenticate(deps, req, {tokens::Role::Admin});
        const auto in_progress = store::SessionStore(deps.db).list({.status = "in-progress"}).size();
        const bool call = deps.rooms.running();
        const std::size_t occupied = deps.rooms.occupied();
        return Response::json(200, {{"call_running", call},
                                    {"occupied_rooms", occupied},
                                    {"sessions_in_progress", in_progress},
                                    {"busy", call || occupied > 0 || in_progress > 0}});
    });
}

}  // namespace consult::http
