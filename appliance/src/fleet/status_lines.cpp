#include "appliance/fleet/status_lines.hpp"

#include "appliance/local_daemon.hpp"
#include "appliance/net/http_client.hpp"

namespace consult::fleet {

namespace {

using nlohmann::json;

std::string text(const json& o, const char* k, const std::string& none = "?") {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : none;
}

std::string number(const json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_number_integer() ? std::to_string(o[k].get<long long>()) : "?";
}

std::string slot_line(const json& r) {
    if (!r.contains("booted_slot") || r["booted_slot"].is_null()) return "none (not an A/B box)";
    std::string s = text(r, "booted_slot");
    const json& good = r.contains("slot_marked_good") ? r["slot_marked_good"] : json();
    if (good.is_boolean()) return s + (good.get<bool>() ? " (marked good in this boot)" : " (not marked good in this boot)");
    return s + " (marked good: unknown)";
}

std::string update_line(const json& r) {
    const std::string result = text(r, "last_update_result");
    if (result == "none") return "none";
    std::string line = result;
    if (auto v = text(r, "last_update_version", ""); !v.empty()) line += " " + v;
    if (auto at = text(r, "last_update_at", ""); !at.empty()) line += " at " + at;
    if (auto why = text(r, "last_update_reason", ""); !why.empty()) line += ": " + why;
    return line;
}

std::string uptime_line(const json& r) {
    auto secs = [&](const char* k) {
        return r.contains(k) && r[k].is_number_integer() ? duration_text(r[k].get<long long>()) : std::string("?");
    };
    return "consultd " + secs("uptime_seconds") + ", box " + secs("box_uptime_seconds");
}

std::string failures_line(const json& r) {
    const json f = r.contains("failures_last_day") && r["failures_last_day"].is_object() ? r["failures_last_day"] : json::object();
    return "session create " + number(f, "session_create") + ", media " + number(f, "media") + ", webhooks refused " +
           number(f, "webhook_refused") + ", status callbacks refused " + number(f, "status_callbacks_refused") +
           ", SMS " + number(f, "sms") + " (the first three counted since " + text(f, "memory_counts_since") + ")";
}

std::string report_line(const json& s) {
    if (auto problem = text(s, "problem", ""); !problem.empty()) return "not sent: " + problem;
    const std::string at = text(s, "last_queued_at", "");
    if (at.empty()) return "not made yet";
    const bool waiting = s.contains("waiting_to_send") && s["waiting_to_send"] == true;
    return (waiting ? "made at " + at + ", waiting to go to the cloud" : "made at " + at + ", sent") +
           " (every " + duration_text(s.contains("every_seconds") && s["every_seconds"].is_number_integer()
                                          ? s["every_seconds"].get<long long>() : 0) + ")";
}

}  // namespace

std::string duration_text(long long s) {
    if (s < 0) return "?";
    if (s >= 86400) return std::to_string(s / 86400) + "d " + std::to_string(s % 86400 / 3600) + "h";
    if (s >= 3600) return std::to_string(s / 3600) + "h " + std::to_string(s % 3600 / 60) + "m";
    if (s >= 60) return std::to_string(s / 60) + "m " + std::to_string(s % 60) + "s";
    return std::to_string(s) + "s";
}

std::string fleet_status_lines(const json& status) {
    const json r = status.is_object() && status.contains("report") && status["report"].is_object() ? status["report"]
                                                                                                    : json::object();
    std::string out;
    out += "device id:       " + text(r, "device_id", "none (not paired)") + "\n";
    out += "booted slot:     " + slot_line(r) + "\n";
    out += "last update:     " + update_line(r) + "\n";
    out += "uptime:          " + uptime_line(r) + "\n";
    out += "failures (24 h): " + failures_line(r) + "\n";
    out += "fleet report:    " + report_line(status) + "\n";
    return out;
}

expected<json, std::string> daemon_fleet_status(const Config& config, const std::filesystem::path& state_dir) {
    auto token = local_admin_token(state_dir);
    if (!token) return unexpected(std::string("no admin token (the box's signing key is not readable by this user)"));
    auto r = net::HttpClient::send_blocking({.url = local_daemon_url(config, "/api/system/fleet-status"),
                                             .headers = {{"Authorization", "Bearer " + *token}},
                                             .timeout = std::chrono::milliseconds(3000)});
    if (r.status != 200) return unexpected("consultd answered HTTP " + std::to_string(r.status));
    auto j = json::parse(r.body, nullptr, false);
    if (!j.is_object()) return unexpected(std::string("consultd's answer is not a JSON object"));
    return j;
}

}  // namespace consult::fleet
