// Twilio's REST API (2010-04-01): Messages and Tokens, form-encoded with Basic auth,
// over the shared HTTP client. Rate limits (429 / 20429) wait for Retry-After or back
// off; 5xx and transport failures retry a bounded number of times; 4xx is final.
#pragma once

#include "appliance/net/http_client.hpp"

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace consult::twilio {

struct Settings {
    std::string api_base_url = "https://api.twilio.com";
    std::string account_sid;                  // AC..., in every path
    std::string username, password;           // Account SID + auth token, or API key SID + secret
    std::string from_number;                  // or:
    std::string messaging_service_sid;
    std::string status_callback_url;          // <public base>/api/webhooks/twilio/message-status
    std::chrono::milliseconds request_timeout{10000};
    std::chrono::milliseconds backoff_base{1000};   // first retry after about this long, doubling
    std::chrono::milliseconds backoff_max{60000};
    int max_attempts = 4;                     // tries per call, the first included
};

// Twilio's error body {code, message, more_info, status}, or what went wrong instead.
struct Error {
    int code = 0;               // Twilio's error code; 0 when there was none
    std::string message;
    std::string more_info;
    long http_status = 0;       // 0: no HTTP response (timeout, refused, reset)
};
Error parse_error(const net::HttpResponse& r);

// What to do with a response to the `attempt`-th try (1-based).
struct Verdict {
    enum Kind { Done, Retry, Give_up } kind = Done;
    std::chrono::milliseconds wait{0};   // before the next try, for Retry
};
Verdict judge(const net::HttpResponse& r, int attempt, const Settings& s);

net::HttpRequest message_request(const Settings& s, const std::string& to, const std::string& body);
net::HttpRequest token_request(const Settings& s, std::optional<int> ttl_seconds);

struct Result {
    bool ok = false;
    net::HttpResponse response;   // the last one
    Error error;                  // when !ok
    int attempts = 0;
};

class RestClient {
public:
    // Callbacks run on the main context the HTTP client delivers to.
    RestClient(Settings settings, net::HttpClient& http);
    ~RestClient();   // pending retries are dropped and their callbacks never run
    RestClient(const RestClient&) = delete;
    RestClient& operator=(const RestClient&) = delete;

    void create_message(const std::string& to, const std::string& body, std::function<void(Result)> done);
    void create_token(std::optional<int> ttl_seconds, std::function<void(Result)> done);
    const Settings& settings() const { return settings_; }

private:
    struct Call;
    void attempt(std::shared_ptr<Call> call);
    Settings settings_;
    net::HttpClient& http_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::vector<guint> timers_;
};

}  // namespace consult::twilio
