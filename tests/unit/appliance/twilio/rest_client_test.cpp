// Twilio requests as the contract describes them, its error body, and the retry policy
// (decided from the response alone; the retries themselves run in the integration tests).
#include "appliance/twilio/rest_client.hpp"

#include "appliance/twilio/signature.hpp"

#include <gtest/gtest.h>

namespace consult::twilio {
namespace {

Settings settings() {
    Settings s;
    s.api_base_url = "https://api.twilio.com/";
    s.account_sid = "AC" + std::string(32, 'a');
    s.username = s.account_sid;
    s.password = "token";
    s.from_number = "+15005550006";
    s.status_callback_url = "https://consult.example.org/api/webhooks/twilio/message-status";
    s.backoff_base = std::chrono::milliseconds(1000);
    return s;
}

net::HttpResponse answer(long status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    net::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

std::string field(const FormParams& f, const std::string& name) {
    for (const auto& [k, v] : f)
        if (k == name) return v;
    return "(absent)";
}

TEST(TwilioRequests, MessageIsAFormPostWithBasicAuthAndStatusCallback) {
    auto r = message_request(settings(), "+14155552345", "Hello & welcome +1 ✓");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, "https://api.twilio.com/2010-04-01/Accounts/AC" + std::string(32, 'a') + "/Messages.json");
    EXPECT_EQ(r.basic_user, "AC" + std::string(32, 'a'));
    EXPECT_EQ(r.basic_password, "token");
    EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                        std::pair<std::string, std::string>{"Content-Type", "application/x-www-form-urlencoded"}),
              r.headers.end());
    const auto f = parse_form(r.body);
    EXPECT_EQ(field(f, "To"), "+14155552345");
    EXPECT_EQ(field(f, "Body"), "Hello & welcome +1 ✓");
    EXPECT_EQ(field(f, "From"), "+15005550006");
    EXPECT_EQ(field(f, "MessagingServiceSid"), "(absent)");
    EXPECT_EQ(field(f, "StatusCallback"), "https://consult.example.org/api/webhooks/twilio/message-status");
}

TEST(TwilioRequests, MessagingServiceReplacesFrom) {
    auto s = settings();
    s.messaging_service_sid = "MG" + std::string(32, 'b');
    const auto f = parse_form(message_request(s, "+14155552345", "x").body);
    EXPECT_EQ(field(f, "MessagingServiceSid"), s.messaging_service_sid);
    EXPECT_EQ(field(f, "From"), "(absent)");
}

TEST(TwilioRequests, TokenAsksForTheTtlWhenGiven) {
    auto r = token_request(settings(), 3600);
    EXPECT_TRUE(r.url.ends_with("/Tokens.json"));
    EXPECT_EQ(r.body, "Ttl=3600");
    EXPECT_EQ(token_request(settings(), std::nullopt).body, "");
}

TEST(TwilioErrors, ParsedFromTwiliosBody) {
    auto e = parse_error(answer(400, R"({"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400})"));
    EXPECT_EQ(e.code, 21211);
    EXPECT_EQ(e.http_status, 400);
    EXPECT_EQ(e.more_info, "https://www.twilio.com/docs/errors/21211");
    EXPECT_NE(e.message.find("not a valid phone number"), std::string::npos);
    auto odd = parse_error(answer(502, "<html>bad gateway</html>"));
    EXPECT_EQ(odd.code, 0);
    EXPECT_EQ(odd.message, "Twilio answered HTTP 502");
    net::HttpResponse dead;
    dead.error = "Timeout was reached";
    EXPECT_EQ(parse_error(dead).http_status, 0);
    EXPECT_EQ(parse_error(dead).message, "Timeout was reached");
}

TEST(TwilioRetries, SuccessIsDoneAndClientErrorsAreFinal) {
    EXPECT_EQ(judge(answer(201, "{}"), 1, settings()).kind, Verdict::Done);
    EXPECT_EQ(judge(answer(400, R"({"code":21211})"), 1, settings()).kind, Verdict::Give_up);
    EXPECT_EQ(judge(answer(401, R"({"code":20003})"), 1, settings()).kind, Verdict::Give_up);
}

TEST(TwilioRetries, ServerErrorsAndTransportFailuresRetryABoundedNumberOfTimes) {
    auto s = settings();
    s.max_attempts = 3;
    net::HttpResponse dead;
    for (int attempt = 1; attempt <= 3; ++attempt) {
        const auto want = attempt < 3 ? Verdict::Retry : Verdict::Give_up;
        EXPECT_EQ(judge(answer(500, "{}"), attempt, s).kind, want);
        EXPECT_EQ(judge(answer(503, "{}"), attempt, s).kind, want);
        EXPECT_EQ(judge(dead, attempt, s).kind, want);
    }
    // Exponential: about 1 s, then about 2 s (jitter adds up to a quarter).
    auto first = judge(answer(500, "{}"), 1, s).wait, second = judge(answer(500, "{}"), 2, s).wait;
    EXPECT_GE(first.count(), 1000);
    EXPECT_LE(first.count(), 1250);
    EXPECT_GE(second.count(), 2000);
    EXPECT_LE(second.count(), 2500);
}

TEST(TwilioRetries, RateLimitHonoursRetryAfterOrBacksOff) {
    auto s = settings();
    auto v = judge(answer(429, R"({"code":20429})", {{"retry-after", "7"}}), 1, s);
    EXPECT_EQ(v.kind, Verdict::Retry);
    EXPECT_EQ(v.wait.count(), 7000);
    auto no_header = judge(answer(429, R"({"code":20429})"), 2, s);
    EXPECT_EQ(no_header.kind, Verdict::Retry);
    EXPECT_GE(no_header.wait.count(), 2000);
    // 20429 in a body with another 4xx status is a rate limit too; a huge Retry-After is capped.
    EXPECT_EQ(judge(answer(400, R"({"code":20429})"), 1, s).kind, Verdict::Retry);
    EXPECT_EQ(judge(answer(429, "{}", {{"retry-after", "99999"}}), 1, s).wait, s.backoff_max);
}

}  // namespace
}  // namespace consult::twilio
