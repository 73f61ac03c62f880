// Outbound HTTP for the cloud sync and Twilio: libcurl on one worker thread per
// client (curl multi), never on the main loop. Results come back on the GLib main
// context that created the client, so callers never see another thread.
#pragma once

#include <glib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
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
    // Large transfers: the body is read from this part of a file on the client's thread
    // (instead of `body`), and a response can be hashed there instead of kept.
    struct FileRange {
        std::filesystem::path path;
        std::uint64_t offset = 0, length = 0;
    };
    std::optional<FileRange> body_file;
    bool digest_only = false;                   // keep only the response body's SHA-256 and length
    std::chrono::seconds stall_timeout{0};      // give up when nothing moved for this long (0: off)
};

struct HttpResponse {
    long status = 0;                            // 0 when no HTTP response arrived
    std::vector<std::pair<std::string, std::string>> headers;   // names lower-cased
    std::string body;
    std::string error;                          // transport error (timeout, refused, reset), empty otherwise
    bool refused = false;                       // nothing listened at the address (connection refused)
    std::string body_sha256;                    // with digest_only: lower-case hex
    std::uint64_t body_bytes = 0;               // with digest_only: how many bytes came
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
