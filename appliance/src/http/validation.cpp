#include "appliance/http/validation.hpp"

#include "appliance/store/database.hpp"

#include <glib.h>

namespace consult::http {

namespace {

[[noreturn]] void missing(const char* field) {
    throw ApiError(400, "missing_field", std::string(field) + " is required", field);
}
[[noreturn]] void wrong_type(const char* field, const char* want) {
    throw ApiError(400, "invalid_type", std::string(field) + " must be " + want, field);
}

std::string join(std::initializer_list<const char*> choices) {
    std::string out;
    for (auto c : choices) out += (out.empty() ? "" : ", ") + std::string(c);
    return out;
}

const nlohmann::json* find(const nlohmann::json& body, const char* field) {
    auto it = body.find(field);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> optional_string(const nlohmann::json& body, const char* field, size_t max_len) {
    const auto* v = find(body, field);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(field, "a string");
    auto s = v->get<std::string>();
    if (s.size() > max_len)
        throw ApiError(422, "invalid_value", std::string(field) + " is longer than " + std::to_string(max_len), field);
    return s;
}

std::string require_string(const nlohmann::json& body, const char* field, size_t max_len) {
    auto s = optional_string(body, field, max_len);
    if (!s) missing(field);
    if (s->empty()) throw ApiError(422, "invalid_value", std::string(field) + " must not be empty", field);
    return *s;
}

std::string require_uuid(const nlohmann::json& body, const char* field) {
    auto s = require_string(body, field, 64);
    if (!store::is_uuid(s)) throw ApiError(422, "invalid_uuid", std::string(field) + " must be a UUID", field);
    return s;
}

std::optional<int> optional_int(const nlohmann::json& body, const char* field, int min, int max) {
    const auto* v = find(body, field);
    if (!v) return std::nullopt;
    if (!v->is_number_integer()) wrong_type(field, "a whole number");
    auto n = v->get<long long>();
    if (n < min || n > max)
        throw ApiError(422, "invalid_value",
                       std::string(field) + " must be " + std::to_string(min) + "-" + std::to_string(max), field);
    return int(n);
}

int require_int(const nlohmann::json& body, const char* field, int min, int max) {
    auto n = optional_int(body, field, min, max);
    if (!n) missing(field);
    return *n;
}

bool optional_bool(const nlohmann::json& body, const char* field, bool fallback) {
    const auto* v = find(body, field);
    if (!v) return fallback;
    if (!v->is_boolean()) wrong_type(field, "true or false");
    return v->get<bool>();
}

std::string require_enum(const nlohmann::json& body, const char* field, std::initializer_list<const char*> choices) {
    auto s = require_string(body, field, 64);
    for (auto c : choices)
        if (s == c) return s;
    throw ApiError(422, "invalid_enum", std::string(field) + " must be one of: " + join(choices), field);
}

bool from_loopback(const Request& req) {
    const auto& a = req.client_address;
    return a == "127.0.0.1" || a == "::1" || a.starts_with("::ffff:127.");
}

std::string path_uuid(const Request& req, const char* name) {
    const auto& v = req.params.at(name);
    if (!store::is_uuid(v)) throw ApiError(400, "invalid_uuid", std::string(name) + " in the path must be a UUID", name);
    return v;
}

std::optional<std::string> query_uuid(const Request& req, const char* name) {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty()) return std::nullopt;
    if (!store::is_uuid(it->second)) throw ApiError(400, "invalid_uuid", std::string(name) + " must be a UUID", name);
    return it->second;
}

std::optional<domain::Date> query_date(const Request& req, const char* name) {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty()) return std::nullopt;
    auto d = domain::parse_date(it->second);
    if (!d) throw ApiError(400, "invalid_date", std::string(name) + " must be a date YYYY-MM-DD", name);
    return d;
}

std::optional<std::string> query_enum(const Request& req, const char* name, std::initializer_list<const char*> choices) {
    auto it = req.query.find(name);
    if (it == req.query.end() || it->second.empty()) return std::nullopt;
    for (auto c : choices)
        if (it->second == c) return it->second;
    throw ApiError(400, "invalid_enum", std::string(name) + " must be one of: " + join(choices), name);
}

}  // namespace consult::http
