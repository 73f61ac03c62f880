// The reports-only admin sign-in through the router: the admin PIN from another address
// than the box's own gives a token that reads /api/reports and is refused everywhere
// else; without `scope` the admin PIN still works only on the box itself.
#include "appliance/wiring.hpp"
#include "appliance/http/kiosk_routes.hpp"
#include "appliance/http/report_routes.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/http/server.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/pin_store.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>

namespace consult {
namespace {

constexpr const char* kLan = "192.168.1.20";

class ReportRoutes : public ::testing::Test {
protected:
    void SetUp() override {
        ctx_.reset(new ApplianceContext{Config{}, dir_.path(), store::Database::open(dir_ / "consult.db"), Metrics(),
                                        tokens::TokenService(std::string(32, 'k')), std::nullopt, false});
        store::migrate(ctx_->db);
        store::PinStore(ctx_->db).set(store::PinStore::kAdmin, kiosk::hash_pin("2468", {1ULL << 10, 8, 1}));
        http::Router router;
        http::add_kiosk_routes(router, wiring::kiosk_routes(*ctx_));
        http::add_report_routes(router, wiring::access(*ctx_));
        http::add_schedule_routes(router, wiring::schedule_routes(*ctx_));
        server_ = std::make_unique<http::Server>(std::move(router), ctx_->metrics, http::ServerLimits{});
    }

    http::Response request(const std::string& method, const std::string& path, const std::string& body = "",
                           const std::string& token = "") {
        http::Request req;
        req.method = method;
        req.path = path.substr(0, path.find('?'));
        if (const auto q = path.find('?'); q != std::string::npos) {
            std::stringstream pairs(path.substr(q + 1));
            for (std::string kv; std::getline(pairs, kv, '&');)
                req.query[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
        }
        req.client_address = kLan;
        req.body = body;
        if (!body.empty()) req.headers["content-type"] = "application/json";
        if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
        std::string route;
        return settle(server_->dispatch(req, route));
    }

    http::Response settle(http::Response r) {
        if (!r.deferred) return r;
        std::optional<http::Response> done;
        r.deferred([&done](http::Response answer) { done = std::move(answer); });
        const gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        while (!done && g_get_monotonic_time() < give_up) g_main_context_iteration(g_main_context_default(), TRUE);
        EXPECT_TRUE(done.has_value()) << "the PIN check never answered";
        return done.value_or(http::Response{});
    }

    test::TempDir dir_;
    std::unique_ptr<ApplianceContext> ctx_;
    std::unique_ptr<http::Server> server_;
};

TEST_F(ReportRoutes, FromTheLanTheAdminPinOpensTheReportsOnly) {
    EXPECT_EQ(request("POST", "/api/kiosk/admin-sign-in", R"({"pin":"2468"})").status, 403);
    auto signed_in = request("POST", "/api/kiosk/admin-sign-in", R"({"pin":"2468","scope":"reports"})");
    ASSERT_EQ(signed_in.status, 200) << signed_in.body;
    const auto reply = nlohmann::json::parse(signed_in.body);
    EXPECT_EQ(reply["identity"], "reports-viewer");
    const std::string token = reply["token"];
    EXPECT_EQ(request("GET", "/api/reports?from=2026-11-01&to=2026-11-08", "", token).status, 200);
    auto csv = request("GET", "/api/reports.csv?from=2026-11-01&to=2026-11-08", "", token);
    EXPECT_EQ(csv.status, 200);
    EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(request("GET", "/api/video-consultations/timings", "", token).status, 403);
    EXPECT_EQ(request("POST", "/api/kiosk/sign-out", "", token).status, 204);
    EXPECT_EQ(request("GET", "/api/reports", "", token).status, 401);
}

TEST_F(ReportRoutes, WrongPinsFromTheLanLockTheAdminPinEverywhere) {
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(request("POST", "/api/kiosk/admin-sign-in", R"({"pin":"0000","scope":"reports"})").status, 401);
    EXPECT_EQ(request("POST", "/api/kiosk/admin-sign-in", R"({"pin":"0000","scope":"reports"})").status, 429);
    EXPECT_EQ(request("POST", "/api/kiosk/admin-sign-in", R"({"pin":"2468","scope":"reports"})").status, 429);
    http::Request req;
    req.method = "POST";
    req.path = "/api/kiosk/admin-sign-in";
    req.client_address = "127.0.0.1";
    req.body = R"({"pin":"2468"})";
    req.headers["content-type"] = "application/json";
    std::string route;
    EXPECT_EQ(settle(server_->dispatch(req, route)).status, 429) << "the kiosk's Settings are locked too";
}

}  // namespace
}  // namespace consult
