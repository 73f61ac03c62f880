// The cloud sync's state for /metrics (and the alert rules), from CloudSync::status().
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace consult::cloud {

std::string cloud_metrics(const nlohmann::json& status);

}  // namespace consult::cloud
