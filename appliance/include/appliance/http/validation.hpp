// Reading fields out of request bodies and query strings, with a 4xx that names
// the field for anything missing, mistyped or out of range.
#pragma once

#include "appliance/domain/time.hpp"
#include "appliance/http/types.hpp"

#include <initializer_list>
#include <optional>
#include <string>

namespace consult::http {

std::string require_string(const nlohmann::json& body, const char* field, size_t max_len = 200);
std::optional<std::string> optional_string(const nlohmann::json& body, const char* field, size_t max_len = 2000);
std::string require_uuid(const nlohmann::json& body, const char* field);
int require_int(const nlohmann::json& body, const char* field, int min, int max);
std::optional<int> optional_int(const nlohmann::json& body, const char* field, int min, int max);
bool optional_bool(const nlohmann::json& body, const char* field, bool fallback);
std::string require_enum(const nlohmann::json& body, const char* field, std::initializer_list<const char*> choices);

// Path and query parameters.
std::string path_uuid(const Request& req, const char* name);
// The request came from the box itself (the kiosk's screen): 127.0.0.1 or ::1.
bool from_loopback(const Request& req);
std::optional<std::string> query_uuid(const Request& req, const char* name);
std::optional<domain::Date> query_date(const Request& req, const char* name);
std::optional<std::string> query_enum(const Request& req, const char* name, std::initializer_list<const char*> choices);

}  // namespace consult::http
