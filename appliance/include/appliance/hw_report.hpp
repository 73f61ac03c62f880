// The hardware probe as JSON, shared by /healthz, `consultctl hw --json` and the kiosk.
#pragma once

#include "appliance/config.hpp"
#include "hwconfig/probe.hpp"

#include <nlohmann/json.hpp>

namespace consult {

hw::ProbeSettings probe_settings(const Config::Media& media);
nlohmann::json probe_to_json(const hw::ProbeResult& r);
nlohmann::json source_to_json(const hw::SourceChoice& s);
// Plain text for `consultctl hw`.
std::string probe_to_text(const hw::ProbeResult& r);

}  // namespace consult
