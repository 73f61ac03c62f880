#include "appliance/fleet/status_report.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/fleet/box_facts.hpp"
#include "appliance/tokens/jwt.hpp"
#include "appliance/update/release.hpp"

#include <glib.h>

#include <cctype>
#include <cstdio>

namespace consult::fleet {

namespace {

using nlohmann::json;

// The table's limits (0006).
constexpr std::size_t kReasonMax = 500, kDeviceTextMax = 200;

json text_or_null(const std::optional<std::string>& v, std::size_t max) {
    if (!v) return nullptr;
    std::string t = column_text(*v, max);
    return t.empty() ? json(nullptr) : json(t);
}

// version ~ '^[0-9A-Za-z.+~-]{1,64}$': kept when it fits, else its other characters become '-'.
std::string report_version(const std::string& v) {
    if (update::is_release_version(v)) return v;
    std::string out;
    for (unsigned char c : v.substr(0, 64)) out += std::isalnum(c) || c == '.' || c == '+' || c == '~' || c == '-' ? char(c) : '-';
    return out.empty() ? "unknown" : out;
}

bool device_id_ok(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (unsigned char c : id)
        if (!std::isalnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

// The updater names results with a dash; the table with an underscore.
const char* result_column(update::Result r) {
    switch (r) {
    case update::Result::Installed: return "installed";
    case update::Result::RolledBack: return "rolled_back";
    case update::Result::Refused: return "refused";
    case update::Result::Failed: return "failed";
    case update::Result::Postponed: return "postponed";
    }
    return "unknown";
}

void add_last_update(json& row, const ReportInputs& in) {
    row["last_update_version"] = nullptr;
    row["last_update_at"] = nullptr;
    row["last_update_reason"] = nullptr;
    if (!in.update_state) {
        row["last_update_result"] = "unknown";
        row["last_update_reason"] = column_text("the updater's state cannot be read: " + in.update_state.error(), kReasonMax);
        return;
    }
    const auto& last = in.update_state->last;
    if (!last) {
        row["last_update_result"] = "none";
        return;
    }
    row["last_update_result"] = result_column(last->result);
    if (update::is_release_version(last->version)) row["last_update_version"] = last->version;
    if (auto at = checked_timestamp(last->at)) row["last_update_at"] = *at;
    if (!last->reason.empty()) row["last_update_reason"] = column_text(last->reason, kReasonMax);
}

// Marked good in this boot: known only on an A/B box whose updater state and boot id are readable.
json marked_good(const ReportInputs& in, bool ab_box) {
    if (!ab_box || !in.update_state || !in.boot_id) return nullptr;
    return !in.update_state->good_boot_id.empty() && in.update_state->good_boot_id == *in.boot_id;
}

}  // namespace

std::string column_text(std::string_view text, std::size_t max_bytes) {
    gchar* valid = g_utf8_make_valid(text.data(), gssize(text.size()));
    std::string s(valid);
    g_free(valid);
    std::string out;
    for (unsigned char c : s) out += c < 0x20 || c == 0x7f ? ' ' : char(c);
    if (out.size() > max_bytes) {
        std::size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;   // not inside a character
        out.resize(cut);
    }
    return out;
}

std::optional<std::string> checked_timestamp(std::string_view t) {
    int y, mo, d, h, mi, s, n = 0;
    if (t.size() < 20 || t.size() > 40) return std::nullopt;
    const std::string text(t);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
        return std::nullopt;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
        if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
    std::size_t i = 19;
    if (t[i] == '.') {
        const std::size_t from = ++i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
        if (i == from || i - from > 6) return std::nullopt;
    }
    const std::string_view zone = t.substr(i);
    auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    const bool offset = zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digit(zone[1]) && digit(zone[2]) &&
                        zone[3] == ':' && digit(zone[4]) && digit(zone[5]);
    if (zone != "Z" && !offset) return std::nullopt;
    // A real date: it must come back the same from the calendar.
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    const std::time_t when = timegm(&tm);
    std::tm back{};
    if (y < 1970 || y > 9999 || !gmtime_r(&when, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
        back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != s)
        return std::nullopt;
    return text;
}

std::optional<std::string> token_device_id(std::string_view jwt) {
    if (jwt.size() > 8192) return std::nullopt;
    const auto first = jwt.find('.');
    const auto second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    auto payload = tokens::base64url_decode(jwt.substr(first + 1, second - first - 1));
    if (!payload) return std::nullopt;
    const json claims = json::parse(*payload, nullptr, false);
    if (!claims.is_object() || !claims.contains("device_id") || !claims["device_id"].is_string()) return std::nullopt;
    std::string id = claims["device_id"].get<std::string>();
    if (!device_id_ok(id)) return std::nullopt;
    return id;
}

std::string sync_state_line(const json& c) {
    auto text = [&](const char* k) { return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string(); };
    auto number = [&](const char* k) { return c.contains(k) && c[k].is_number_integer() ? c[k].get<long long>() : -1LL; };
    std::string line = text("state").empty() ? "unknown" : text("state");
    if (line == "off" && !text("off_reason").empty()) return line + ": " + text("off_reason");
    if (number("outbox_depth") >= 0) line += ", " + std::to_string(number("outbox_depth")) + " waiting";
    if (number("parked_rows") > 0) line += ", " + std::to_string(number("parked_rows")) + " parked";
    if ((line.starts_with("retrying") || line.starts_with("repair_needed")) && !text("last_error").empty())
        line += ": " + text("last_error");
    return line;
}

json status_row(const ReportInputs& in) {
    json row;
    row["device_id"] = in.device_id && device_id_ok(*in.device_id) ? json(*in.device_id) : json(nullptr);
    row["clinic_id"] = in.clinic_id && uuid_shaped(*in.clinic_id) ? json(*in.clinic_id) : json(nullptr);
    row["version"] = report_version(in.version);
    const auto slot = in.cmdline ? booted_slot(*in.cmdline) : std::nullopt;
    row["booted_slot"] = slot ? json(std::string(1, *slot)) : json(nullptr);
    row["slot_marked_good"] = marked_good(in, slot.has_value());
    add_last_update(row, in);
    row["uptime_seconds"] = std::max<std::int64_t>(0, in.uptime_seconds);
    row["box_uptime_seconds"] = in.box_uptime_seconds && *in.box_uptime_seconds >= 0 ? json(*in.box_uptime_seconds)
                                                                                      : json(nullptr);
    row["encoder"] = text_or_null(in.encoder, kDeviceTextMax);
    row["camera"] = text_or_null(in.camera, kDeviceTextMax);
    row["cloud_sync_state"] = column_text(in.cloud_sync_state.empty() ? "unknown" : in.cloud_sync_state, kDeviceTextMax);
    const auto& f = in.failures;
    row["failures_last_day"] = {{"session_create", f.in_memory.of(Failure::SessionCreate)},
                                {"media", f.in_memory.of(Failure::Media)},
                                {"webhook_refused", f.in_memory.of(Failure::WebhookRefused)},
                                {"sms", std::max(0L, f.sms)},
                                {"status_callbacks_refused", std::max(0L, f.status_callbacks_refused)},
                                // The first three are counted in memory: since consultd started, if that was within the day.
                                {"memory_counts_since", domain::iso_utc(f.in_memory.since)}};
    row["reported_at"] = domain::iso_utc(in.now);
    return row;
}

}  // namespace consult::fleet
