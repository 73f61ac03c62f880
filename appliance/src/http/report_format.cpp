#include "appliance/http/report_format.hpp"

#include <cmath>
#include <functional>

namespace consult::http {

namespace {

using store::ReportCounts;
using nlohmann::json;

json rounded(const std::optional<double>& v, int decimals) {
    if (!v) return nullptr;
    const double scale = std::pow(10.0, decimals);
    return std::round(*v * scale) / scale;
}

struct Column {
    const char* name;
    std::function<json(const ReportCounts&)> value;
};

// The API's field names, in the CSV's column order. Rates are fractions (0-1); null
// (an empty CSV cell) when there is nothing to divide by.
const std::vector<Column>& columns() {
    static const std::vector<Column> kColumns{
        {"appointments", [](const ReportCounts& c) -> json { return c.appointments; }},
        {"due_appointments", [](const ReportCounts& c) -> json { return c.due; }},
        {"no_shows", [](const ReportCounts& c) -> json { return c.no_shows; }},
        {"no_show_rate", [](const ReportCounts& c) { return rounded(c.no_show_rate(), 4); }},
        {"consultations", [](const ReportCounts& c) -> json { return c.sessions; }},
        {"held", [](const ReportCounts& c) -> json { return c.held; }},
        {"completed", [](const ReportCounts& c) -> json { return c.completed; }},
        {"cancelled", [](const ReportCounts& c) -> json { return c.cancelled; }},
        {"average_duration_seconds", [](const ReportCounts& c) { return rounded(c.average_duration_seconds(), 1); }},
        {"joined", [](const ReportCounts& c) -> json { return c.joined; }},
        {"join_success_rate", [](const ReportCounts& c) { return rounded(c.join_success_rate(), 4); }},
        {"quality_reports", [](const ReportCounts& c) -> json { return c.quality_reports; }},
        {"quality_good", [](const ReportCounts& c) -> json { return c.quality_good; }},
        {"quality_fair", [](const ReportCounts& c) -> json { return c.quality_fair; }},
        {"quality_poor", [](const ReportCounts& c) -> json { return c.quality_poor; }},
        {"average_rtt_ms", [](const ReportCounts& c) { return rounded(c.average_rtt_ms(), 1); }},
        {"average_loss", [](const ReportCounts& c) { return rounded(c.average_loss(), 4); }},
        {"ratings", [](const ReportCounts& c) -> json { return c.rating_count(); }},
        {"average_rating", [](const ReportCounts& c) { return rounded(c.average_rating(), 2); }},
        {"rating_1", [](const ReportCounts& c) -> json { return c.ratings[0]; }},
        {"rating_2", [](const ReportCounts& c) -> json { return c.ratings[1]; }},
        {"rating_3", [](const ReportCounts& c) -> json { return c.ratings[2]; }},
        {"rating_4", [](const ReportCounts& c) -> json { return c.ratings[3]; }},
        {"rating_5", [](const ReportCounts& c) -> json { return c.ratings[4]; }},
        {"recordings", [](const ReportCounts& c) -> json { return c.recordings; }},
        {"recorded_seconds", [](const ReportCounts& c) -> json { return (c.recorded_ms + 500) / 1000; }},
        {"recording_declined", [](const ReportCounts& c) -> json { return c.recording_declined; }},
    };
    return kColumns;
}

json counts_json(const ReportCounts& c, json out = json::object()) {
    for (const auto& col : columns()) out[col.name] = col.value(c);
    return out;
}

std::string csv_number(const json& v) {
    if (v.is_null()) return "";
    if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4f", v.get<double>());
    std::string s = buf;   // no trailing zeros: 0.25, not 0.2500
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
}

}  // namespace

std::string csv_field(std::string_view text) {
    std::string s(text);
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
        s.insert(s.begin(), '\'');
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string quoted = "\"";
    for (char c : s) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

json report_json(const store::Report& r) {
    json days = json::array(), weeks = json::array();
    for (const auto& d : r.days) days.push_back(counts_json(d.counts, {{"date", d.label}}));
    for (const auto& w : r.weeks)
        weeks.push_back(counts_json(w.counts, {{"week", w.label}, {"first_day", w.first_day}, {"last_day", w.last_day}}));
    return {{"from", r.from}, {"to", r.to}, {"totals", counts_json(r.totals)}, {"days", days}, {"weeks", weeks}};
}

std::string report_csv(const store::Report& r) {
    std::string out = "date";
    for (const auto& col : columns()) out += std::string(",") + csv_field(col.name);
    out += "\r\n";
    for (const auto& d : r.days) {
        out += csv_field(d.label);
        for (const auto& col : columns()) out += "," + csv_field(csv_number(col.value(d.counts)));
        out += "\r\n";
    }
    return out;
}

}  // namespace consult::http
