#include "appliance/http/types.hpp"

#include "appliance/input/json_input.hpp"

#include <glib.h>

namespace consult::http {

namespace {
// No request body of ours nests deeper than a few levels; 32 leaves room and bounds the work.
constexpr int kMaxBodyDepth = 32;
}  // namespace

std::optional<std::string> Request::header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
}

nlohmann::json Request::json_body() const {
    auto type = header("content-type").value_or("");
    const auto semicolon = type.find(';');
    std::string media = type.substr(0, semicolon);
    while (!media.empty() && media.back() == ' ') media.pop_back();
    if (g_ascii_strcasecmp(media.c_str(), "application/json") != 0)
        throw ApiError(415, "unsupported_media_type", "the request body must be application/json");
    if (!g_utf8_validate(body.data(), gssize(body.size()), nullptr))
        throw ApiError(400, "invalid_encoding", "the request body is not valid UTF-8");
    auto parsed = input::parse(body, {body.size(), kMaxBodyDepth});
    if (!parsed) throw ApiError(400, "malformed_json", "the request body is " + parsed.error());
    if (!parsed->is_object()) throw ApiError(400, "malformed_json", "the request body must be a JSON object");
    return std::move(*parsed);
}

Response Response::json(int status, const nlohmann::json& body) {
    return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), {}};
}

Response Response::later(std::function<void(std::function<void(Response)>)> start) {
    Response r;
    r.deferred = std::move(start);
    return r;
}

Response Response::text(int status, std::string content_type, std::string body) {
    return {status, std::move(content_type), std::move(body), {}};
}

Response error_response(int status, const std::string& code, const std::string& message, const std::string& field) {
    nlohmann::json e{{"code", code}, {"message", message}};
    if (!field.empty()) e["field"] = field;
    return Response::json(status, {{"error", e}});
}

}  // namespace consult::http
