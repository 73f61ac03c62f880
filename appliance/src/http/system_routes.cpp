// /healthz and /metrics.
#include "appliance/http/routes.hpp"

#include "appliance/hw_report.hpp"
#include "appliance/session_sweeper.hpp"
#include "appliance/store/migrations.hpp"

namespace consult::http {

void add_system_routes(Router& router, ApplianceContext& ctx) {
    router.add("GET", "/healthz", [&ctx](const Request&) {
        nlohmann::json j{{"version", version()}, {"schema_version", nullptr}};
        bool store_ok = true;
        try {
            j["schema_version"] = ctx.db.user_version();
            auto st = ctx.db.prepare("SELECT count(*) FROM clinics");
            st.step();
            j["db"] = "ok";
        } catch (const store::StoreError& e) {
            store_ok = false;
            j["db"] = std::string("error: ") + e.what();
        }
        if (ctx.probe) {
            j["camera"] = source_to_json(ctx.probe->camera);
            j["encoder"] = ctx.probe->encoder ? nlohmann::json(ctx.probe->encoder->factory) : nlohmann::json(nullptr);
        } else {
            j["camera"] = "probing";
            j["encoder"] = "probing";
        }
        const bool media_ok = !ctx.probe || ctx.probe->encoder;
        j["status"] = !store_ok ? "unavailable" : media_ok ? "ok" : "degraded";
        return Response::json(store_ok ? 200 : 503, j);
    });
    router.add("GET", "/metrics", [&ctx](const Request&) {
        std::string text = ctx.metrics.render(version()) + session_metrics(ctx.db);
        for (const auto& source : ctx.metric_sources) text += source();
        return Response::text(200, "text/plain; version=0.0.4; charset=utf-8", text);
    });
}

}  // namespace consult::http
