#include "appliance/http/router.hpp"
#include "appliance/http/server.hpp"
#include "appliance/metrics.hpp"
#include "appliance/store/database.hpp"

#include <gtest/gtest.h>

namespace consult::http {
namespace {

Response ok(const Request&) { return Response::json(200, {{"ok", true}}); }

TEST(Router, MatchesLiteralAndPlaceholderSegments) {
    Router r;
    r.add("GET", "/api/video-consultations/sessions/{id}", ok);
    r.add("POST", "/api/video-consultations/sessions/{id}/admit", ok);
    auto m = r.match("GET", "/api/video-consultations/sessions/abc");
    ASSERT_TRUE(std::holds_alternative<Matched>(m));
    EXPECT_EQ(std::get<Matched>(m).params.at("id"), "abc");
    EXPECT_TRUE(std::holds_alternative<NotFound>(r.match("GET", "/api/video-consultations/sessions")));
    EXPECT_TRUE(std::holds_alternative<NotFound>(r.match("GET", "/api/video-consultations/sessions/a/b/c")));
}

TEST(Router, WrongMethodListsTheAllowedOnes) {
    Router r;
    r.add("GET", "/timings", ok);
    r.add("POST", "/timings", ok);
    auto m = r.match("DELETE", "/timings");
    ASSERT_TRUE(std::holds_alternative<MethodNotAllowed>(m));
    EXPECT_EQ(std::get<MethodNotAllowed>(m).allowed, (std::vector<std::string>{"GET", "POST"}));
    EXPECT_TRUE(std::holds_alternative<Matched>(r.match("HEAD", "/timings")));
}

TEST(Router, TailPlaceholderTakesTheRestOfThePath) {
    Router r;
    r.add("GET", "/kiosk/{*}", ok);
    auto m = r.match("GET", "/kiosk/js/app.js");
    ASSERT_TRUE(std::holds_alternative<Matched>(m));
    EXPECT_EQ(std::get<Matched>(m).params.at("*"), "js/app.js");
}

class Dispatch : public ::testing::Test {
protected:
    Response run(const std::string& method, const std::string& path, const std::string& body = "") {
        Request req;
        req.method = method;
        req.path = path;
        req.body = body;
        std::string label;
        return server_.dispatch(req, label);
    }
    static Router routes() {
        Router r;
        r.add("GET", "/ok", ok);
        r.add("GET", "/api-error", [](const Request&) -> Response {
            throw ApiError(422, "invalid_field", "duration must be 5-240", "duration_minutes");
        });
        r.add("GET", "/store-error", [](const Request&) -> Response { throw store::StoreError(1, "disk I/O"); });
        r.add("GET", "/crash", [](const Request&) -> Response { throw std::runtime_error("boom"); });
        return r;
    }
    Metrics metrics_;
    Server server_{routes(), metrics_, ServerLimits{1024, {}}};
};

TEST_F(Dispatch, ErrorsAreMappedToOneJsonShape) {
    auto e = nlohmann::json::parse(run("GET", "/api-error").body);
    EXPECT_EQ(e["error"]["code"], "invalid_field");
    EXPECT_EQ(e["error"]["field"], "duration_minutes");
    auto r = run("GET", "/store-error");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "store_error");
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["message"].get<std::string>().find("disk"), std::string::npos)
        << "internal detail stays in the log";
    EXPECT_EQ(run("GET", "/crash").status, 500);
    EXPECT_EQ(run("GET", "/nothing").status, 404);
    auto wrong = run("PUT", "/ok");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(wrong.headers.at(0), (std::pair<std::string, std::string>{"Allow", "GET"}));
    EXPECT_EQ(run("GET", "/ok", std::string(2048, 'x')).status, 413);
}

TEST(RequestBody, RefusesWhatIsNotAJsonObject) {
    Request r;
    r.headers["content-type"] = "text/plain";
    r.body = "{}";
    try { r.json_body(); FAIL(); } catch (const ApiError& e) { EXPECT_EQ(e.status(), 415); }
    r.headers["content-type"] = "application/json";
    for (const char* bad : {"{", "[1,2]", "\xff\xfe"}) {
        r.body = bad;
        try { r.json_body(); FAIL() << bad; } catch (const ApiError& e) { EXPECT_EQ(e.status(), 400); }
    }
    r.body = R"({"a":1})";
    EXPECT_EQ(r.json_body()["a"], 1);
}

TEST(Metrics, RendersPrometheusTextWithCountersAndHistograms) {
    Metrics m;
    m.http_request("/healthz", "GET", 200, 0.002);
    m.http_request("/healthz", "GET", 200, 0.2);
    m.count("consult_token_refusals_total", {{"reason", "expired"}});
    m.set_help("consult_token_refusals_total", "counter", "Tokens refused.");
    const std::string text = m.render("1.2.3");
    EXPECT_NE(text.find("consult_build_info{version=\"1.2.3\"} 1"), std::string::npos);
    EXPECT_NE(text.find("consult_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"),
              std::string::npos);
    EXPECT_NE(text.find("consult_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1"),
              std::string::npos);
    EXPECT_NE(text.find("consult_http_request_duration_seconds_count{route=\"/healthz\"} 2"), std::string::npos);
    EXPECT_NE(text.find("# TYPE consult_token_refusals_total counter"), std::string::npos);
    EXPECT_NE(text.find("consult_token_refusals_total{reason=\"expired\"} 1"), std::string::npos);
    EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
    EXPECT_EQ(prometheus_escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace consult::http
