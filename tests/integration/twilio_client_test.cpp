// The Twilio REST client in this process against the stand-in: retries after timeouts,
// bounded retries, final errors, and the TURN credential cache (with a made-up clock).
#include "python_standin.hpp"

#include "appliance/net/http_client.hpp"
#include "appliance/twilio/ice_servers.hpp"
#include "appliance/twilio/rest_client.hpp"

#include <gtest/gtest.h>

namespace consult::test {
namespace {

using namespace std::chrono_literals;
const std::string kAccount = "AC" + std::string(31, '0') + "9";
const std::string kToken = "client-test-token";

class TwilioClient : public ::testing::Test {
protected:
    TwilioClient() : standin_("twilio_standin.py", {"--account-sid", kAccount, "--auth-token", kToken}) {}

    twilio::Settings settings(const std::string& password = kToken) const {
        twilio::Settings s;
        s.api_base_url = standin_.url();
        s.account_sid = kAccount;
        s.username = kAccount;
        s.password = password;
        s.from_number = "+15550109999";
        s.request_timeout = 500ms;
        s.backoff_base = 50ms;
        s.max_attempts = 3;
        return s;
    }

    // Runs the default main context until `done` or 20 s.
    template <class F> bool run_until(F done) {
        const auto end = std::chrono::steady_clock::now() + 20s;
        while (!done() && std::chrono::steady_clock::now() < end) g_main_context_iteration(nullptr, FALSE), g_usleep(1000);
        return done();
    }

    twilio::Result send(twilio::RestClient& client) {
        std::optional<twilio::Result> out;
        client.create_message("+15550100001", "hello", [&](twilio::Result r) { out = std::move(r); });
        EXPECT_TRUE(run_until([&] { return out.has_value(); }));
        return out.value_or(twilio::Result{});
    }

    PythonStandin standin_;
    net::HttpClient http_;
};

TEST_F(TwilioClient, ATimedOutRequestIsTriedAgain) {
    twilio::RestClient client(settings(), http_);
    standin_.control("fault", {{"mode", "hang"}, {"count", 1}});
    auto r = send(client);
    EXPECT_TRUE(r.ok) << r.error.message;
    EXPECT_EQ(r.attempts, 2);
    standin_.control("fault", {{"mode", "none"}});   // lets the hung handler go
}

TEST_F(TwilioClient, RetriesAreBoundedAndTheLastErrorIsKept) {
    twilio::RestClient client(settings(), http_);
    standin_.control("fault", {{"mode", "500"}, {"count", -1}});
    auto r = send(client);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 3);
    EXPECT_EQ(r.error.http_status, 500);
    EXPECT_EQ(r.error.code, 20500);
}

TEST_F(TwilioClient, BadCredentialsAreFinalWithTwiliosError) {
    twilio::RestClient client(settings("wrong"), http_);
    auto r = send(client);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.error.http_status, 401);
    EXPECT_EQ(r.error.code, 20003);
    EXPECT_EQ(r.error.more_info, "https://www.twilio.com/docs/errors/20003");
}

TEST_F(TwilioClient, TurnCredentialsAreCachedUntilShortlyBeforeTheyExpire) {
    twilio::RestClient client(settings(), http_);
    standin_.control("ttl", {{"ttl", "600"}});
    twilio::IceServers ice(&client, {"stun:stun.example.org:3478"}, 600);
    const std::time_t t0 = 1'000'000;
    std::optional<twilio::IceServerList> got;
    ice.get(t0, [&](const twilio::IceServerList& l) { got = l; });
    ASSERT_TRUE(run_until([&] { return got.has_value(); }));
    EXPECT_EQ(got->source, "twilio");
    EXPECT_EQ(got->expires_at, t0 + 600);
    EXPECT_EQ(ice.fetches(), 1);
    // Fresh until a tenth of its life before expiry: no new request.
    EXPECT_EQ(ice.current(t0 + 539).servers.size(), got->servers.size());
    EXPECT_EQ(ice.fetches(), 1);
    // Then a new one is fetched; meanwhile the old (still valid) credentials are handed out.
    auto during = ice.current(t0 + 540);
    EXPECT_EQ(during.source, "twilio");
    EXPECT_EQ(during.servers[1].credential, got->servers[1].credential);
    EXPECT_EQ(ice.fetches(), 2);
    ASSERT_TRUE(run_until([&] { return ice.current(t0 + 541).servers[1].credential != got->servers[1].credential; }));
    EXPECT_EQ(ice.fetches(), 2);
    EXPECT_EQ(standin_.get("/_control/stats")["tokens"], 2);
}

TEST_F(TwilioClient, ExpiredCredentialsAreNeverHandedOut) {
    twilio::RestClient client(settings(), http_);
    twilio::IceServers ice(&client, {"stun:stun.example.org:3478"}, 60);
    std::optional<twilio::IceServerList> got;
    ice.get(2'000'000, [&](const twilio::IceServerList& l) { got = l; });
    ASSERT_TRUE(run_until([&] { return got.has_value(); }));
    ASSERT_EQ(got->source, "twilio");
    // Twilio goes away; long after expiry only the configured STUN servers are left.
    standin_.control("fault", {{"mode", "500"}, {"count", -1}});
    auto later = ice.current(2'000'000 + 86400);
    EXPECT_EQ(later.source, "configured");
    ASSERT_EQ(later.servers.size(), 1u);
    EXPECT_EQ(later.servers[0].urls, "stun:stun.example.org:3478");
}

}  // namespace
}  // namespace consult::test

namespace consult::test {
namespace {

// The stand-in refuses what Twilio refuses, with Twilio's error body; otherwise the
// client's tests would prove nothing.
TEST_F(TwilioClient, StandInRefusesWhatTwilioRefuses) {
    const std::string path = "/2010-04-01/Accounts/" + kAccount + "/Messages.json";
    const std::string form = "Content-Type: application/x-www-form-urlencoded";
    const std::string auth = "Authorization: Basic " + [] {
        const std::string raw = kAccount + ":" + kToken;
        gchar* b64 = g_base64_encode(reinterpret_cast<const guchar*>(raw.data()), raw.size());
        std::string out = b64;
        g_free(b64);
        return out;
    }();
    auto expect_error = [&](const HttpResponse& r, long status, int code) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        EXPECT_EQ(r.status, status) << r.body;
        EXPECT_EQ(j.value("code", 0), code) << r.body;
        EXPECT_EQ(j.value("status", 0), status) << r.body;
        EXPECT_EQ(j.value("more_info", ""), "https://www.twilio.com/docs/errors/" + std::to_string(code));
        EXPECT_FALSE(j.value("message", "").empty());
    };
    const std::string ok = "To=%2B15550100001&From=%2B15550109999&Body=hi";
    expect_error(http_request(standin_.port(), "POST", path, ok, {form}), 401, 20003);
    expect_error(http_request(standin_.port(), "POST", path, ok, {form, "Authorization: Basic eDp5"}), 401, 20003);
    expect_error(http_request(standin_.port(), "POST", path, R"({"To":"+15550100001","From":"+15550109999","Body":"hi"})",
                              {"Content-Type: application/json", auth}), 400, 21604);
    expect_error(http_request(standin_.port(), "POST", path, "From=%2B15550109999&Body=hi", {form, auth}), 400, 21604);
    expect_error(http_request(standin_.port(), "POST", path, "To=%2B15550100001&From=%2B15550109999", {form, auth}), 400, 21602);
    expect_error(http_request(standin_.port(), "POST", path, "To=%2B15550100001&Body=hi", {form, auth}), 400, 21603);
    expect_error(http_request(standin_.port(), "POST", path, "To=+15550100001&From=%2B15550109999&Body=hi", {form, auth}),
                 400, 21211);   // an unencoded '+' is a space
    expect_error(http_request(standin_.port(), "POST", "/2010-04-01/Accounts/AC" + std::string(32, 'f') + "/Messages.json",
                              ok, {form, auth}), 404, 20404);
    auto created = http_request(standin_.port(), "POST", path, ok + "&StatusCallback=https%3A%2F%2Fconsult.example.org%2Fcb",
                                {form, auth});
    EXPECT_EQ(created.status, 201) << created.body;
    auto j = nlohmann::json::parse(created.body);
    EXPECT_TRUE(j["sid"].get<std::string>().starts_with("SM"));
    EXPECT_EQ(j["status"], "queued");
    auto token = http_request(standin_.port(), "POST", "/2010-04-01/Accounts/" + kAccount + "/Tokens.json", "Ttl=600",
                              {form, auth});
    EXPECT_EQ(token.status, 201);
    EXPECT_TRUE(nlohmann::json::parse(token.body)["ttl"].is_string());
}

}  // namespace
}  // namespace consult::test
