// Outbound HTTP for the cloud sync and Twilio: libcurl on one worker thread per
// client (curl multi), never on the main loop. Results come back on the GLib main
// context that created the client, so callers never see another thread.
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace consult::net {

struct HttpRequest {
    std::string method = "GET";                 // GET, POST, PATCH, DELETE, HEAD
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string basic_user, basic_password;     // Basic auth when basic_user is not empty
    std::chrono::milliseconds timeout{10000};  // whole request; connect timeout is min(timeout, 5 s)
};

struct HttpResponse {
    long status = 0;                            // 0 when no HTTP response arrived
    std::vector<std::pair<std::string, std::string>> headers;   // names lower-cased
    std::string body;
    std::string error;                          // transport error (timeout, refused, reset), empty otherwise
    std::optional<std::string> header(std::string_view lower_name) const;
    bool transport_failed() const { return status == 0; }
};

class HttpClient {
public:
    explicit HttpClient(GMainContext* deliver_on = nullptr);   // nullptr: the thread-default context
    ~HttpClient();                              // cancels pending requests; their callbacks are not called
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void send(HttpRequest request, std::function<void(HttpResponse)> on_done);   // on_done runs on the context
    static HttpResponse send_blocking(const HttpRequest& request);               // for consultctl and tests

    size_t in_flight() const;                   // sent and not yet delivered

    struct Worker;

private:
    std::shared_ptr<Worker> worker_;
};

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);   // application/x-www-form-urlencoded
std::string url_escape(std::string_view);

}  // namespace consult::net
