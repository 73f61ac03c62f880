// The report as the API gives it: JSON (days, ISO weeks, totals) and CSV (one row per
// day, RFC 4180, safe to open in a spreadsheet). One column table drives both.
#pragma once

#include "appliance/store/report_store.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace consult::http {

nlohmann::json report_json(const store::Report& report);
std::string report_csv(const store::Report& report);

// One CSV field: quoted when it holds a comma, quote or line break (quotes doubled),
// and a text that a spreadsheet would run as a formula (= + - @, tab, CR first) is
// prefixed with ' so it stays text.
std::string csv_field(std::string_view text);

}  // namespace consult::http
