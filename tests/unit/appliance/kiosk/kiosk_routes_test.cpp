// The kiosk's sign-in routes through the router: only the box itself may use them,
// and the PIN check answers later, from GLib's thread pool, without holding the loop.
#include "appliance/wiring.hpp"
#include "appliance/http/kiosk_routes.hpp"
#include "appliance/http/server.hpp"
#include "appliance/kiosk/pin_hash.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/store/pin_store.hpp"
#include "hwconfig/gref.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace consult {
namespace {

constexpr const char* kDoctor = "5d0c1a1e-0000-4000-8000-00000000d0c9";

class KioskRoutes : public ::testing::Test {
protected:
    void SetUp() override {
        ctx_.reset(new ApplianceContext{Config{}, dir_.path(), store::Database::open(dir_ / "consult.db"), Metrics(),
                                        tokens::TokenService(std::string(32, 'k')), std::nullopt, false});
        store::migrate(ctx_->db);
        ctx_->db.exec("INSERT INTO clinics(id, name) VALUES ('5d0c1a1e-0000-4000-8000-000000000009', 'C');"
                      "INSERT INTO doctors(id, clinic_id, full_name) VALUES ('" + std::string(kDoctor) +
                      "', '5d0c1a1e-0000-4000-8000-000000000009', 'Dr. Test')");
        store::PinStore(ctx_->db).set(kDoctor, kiosk::hash_pin("2468", {1ULL << 10, 8, 1}));
        http::Router router;
        http::add_kiosk_routes(router, wiring::kiosk_routes(*ctx_));
        server_ = std::make_unique<http::Server>(std::move(router), ctx_->metrics, http::ServerLimits{});
    }

    http::Response request(const std::string& method, const std::string& path, const std::string& address,
                           const std::string& body = "") {
        http::Request req;
        req.method = method;
        req.path = path;
        req.client_address = address;
        req.body = body;
        if (!body.empty()) req.headers["content-type"] = "application/json";
        std::string route;
        return server_->dispatch(req, route);
    }

    // Runs a deferred answer to completion on a main loop of this test's own.
    http::Response settle(http::Response r) {
        if (!r.deferred) return r;
        std::optional<http::Response> done;
        r.deferred([&done](http::Response answer) { done = std::move(answer); });
        GMainContext* context = g_main_context_default();
        const gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
        while (!done && g_get_monotonic_time() < give_up) g_main_context_iteration(context, TRUE);
        EXPECT_TRUE(done.has_value()) << "the PIN check never answered";
        return done.value_or(http::Response{});
    }

    test::TempDir dir_;
    std::unique_ptr<ApplianceContext> ctx_;
    std::unique_ptr<http::Server> server_;
};

TEST_F(KioskRoutes, OnlyTheBoxItselfMayListDoctorsOrTryAPin) {
    auto list = request("GET", "/api/kiosk/doctors", "192.168.1.20");
    EXPECT_EQ(list.status, 403);
    EXPECT_NE(list.body.find("kiosk_only"), std::string::npos);
    auto pin = request("POST", "/api/kiosk/sign-in", "192.168.1.20",
                       R"({"doctor_id":")" + std::string(kDoctor) + R"(","pin":"2468"})");
    EXPECT_EQ(pin.status, 403);
    EXPECT_FALSE(pin.deferred);
    EXPECT_EQ(request("POST", "/api/kiosk/admin-sign-in", "10.0.0.5", R"({"pin":"0000"})").status, 403);
    EXPECT_EQ(request("GET", "/api/kiosk/doctors", "127.0.0.1").status, 200);
    EXPECT_EQ(request("GET", "/api/kiosk/doctors", "::1").status, 200);
}

TEST_F(KioskRoutes, ThePinIsCheckedOffTheLoopAndAnsweredLater) {
    auto first = request("POST", "/api/kiosk/sign-in", "127.0.0.1",
                         R"({"doctor_id":")" + std::string(kDoctor) + R"(","pin":"2468"})");
    ASSERT_TRUE(first.deferred) << "the handler must not run the KDF itself";
    auto ok = settle(std::move(first));
    EXPECT_EQ(ok.status, 200) << ok.body;
    EXPECT_NE(ok.body.find("\"token\""), std::string::npos);
    auto wrong = settle(request("POST", "/api/kiosk/sign-in", "127.0.0.1",
                                R"({"doctor_id":")" + std::string(kDoctor) + R"(","pin":"1357"})"));
    EXPECT_EQ(wrong.status, 401);
    EXPECT_NE(wrong.body.find("wrong_pin"), std::string::npos);
}

TEST_F(KioskRoutes, WithoutAnAdminPinSettingsSaysHowToSetOne) {
    auto r = request("POST", "/api/kiosk/admin-sign-in", "127.0.0.1", R"({"pin":"0000"})");
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("consultctl set-pin --admin"), std::string::npos);
}

}  // namespace
}  // namespace consult
