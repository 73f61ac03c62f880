// What a route handler sees and returns. Handlers never touch libsoup.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace consult::http {

struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> params;   // from the route pattern: {id} → value
    std::map<std::string, std::string> query;
    std::string raw_query;                       // as received, still percent-encoded (webhook signatures)
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string client_address;

    std::optional<std::string> header(const std::string& lower_name) const;
    // The body as a JSON object, or an ApiError (415 / 400) naming the problem.
    nlohmann::json json_body() const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    // Instead of `body`: part of a file, mapped and sent without a copy (recordings).
    struct FileSlice {
        std::string path;
        std::uint64_t offset = 0, length = 0;
    };
    std::optional<FileSlice> file;
    std::vector<std::pair<std::string, std::string>> headers;
    // Set by Response::later: the server holds the request and calls this with a
    // function that sends the real answer (once, on the main loop).
    std::function<void(std::function<void(Response)>)> deferred;

    static Response json(int status, const nlohmann::json& body);
    // For work that must not run on the main loop (a slow KDF): answer when it is done.
    static Response later(std::function<void(std::function<void(Response)>)> start);
    static Response text(int status, std::string content_type, std::string body);
};

// Thrown by handlers; turned into {"error":{code,message,field}} in one place.
class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string code, const std::string& message, std::string field = {})
        : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }
    const std::string& field() const { return field_; }
    ApiError& with_header(std::string name, std::string value) {
        headers_.emplace_back(std::move(name), std::move(value));
        return *this;
    }
    const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
private:
    std::vector<std::pair<std::string, std::string>> headers_;
    int status_;
    std::string code_;
    std::string field_;
};

Response error_response(int status, const std::string& code, const std::string& message,
                        const std::string& field = {});

}  // namespace consult::http
