#include "appliance/config.hpp"

#include "appliance/update/window.hpp"
#include "hwconfig/gref.hpp"

#include <glib.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

namespace consult {

namespace {

enum class Kind { Int, Text, Url, Enum, Phone, Sid, Email, Window };

struct KeySpec {
    const char* section;
    const char* key;
    Kind kind;
    long min = 0, max = 0;
    std::vector<std::string_view> choices = {};
    void (*assign)(Config&, const std::string&) = nullptr;
};

int to_int(const std::string& v) { return std::stoi(v); }

// "a, b,c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> split_list(const std::string& v) {
    std::vector<std::string> out;
    gchar** parts = g_strsplit(v.c_str(), ",", -1);
    for (gchar** p = parts; *p; ++p) {
        std::string item = g_strstrip(*p);
        if (!item.empty()) out.push_back(std::move(item));
    }
    g_strfreev(parts);
    return out;
}

bool all_of(std::string_view s, int (*pred)(int)) {
    return std::all_of(s.begin(), s.end(), [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool is_e164(std::string_view v) {
    return v.size() >= 8 && v.size() <= 16 && v[0] == '+' && v[1] != '0' && all_of(v.substr(1), isdigit);
}

bool is_sid(std::string_view v, std::string_view prefix) {
    return v.size() == 34 && v.substr(0, 2) == prefix && all_of(v.substr(2), isxdigit);
}

bool is_email(std::string_view v) {
    auto at = v.find('@');
    if (at == 0 || at == std::string_view::npos || v.find('@', at + 1) != std::string_view::npos) return false;
    auto dot = v.find('.', at + 2);
    return dot != std::string_view::npos && dot + 1 < v.size() &&
           v.find_first_of(" \t<>") == std::string_view::npos;
}

// The schema: every key consultd understands, its type and where it goes.
const std::vector<KeySpec>& schema() {
    static const std::vector<KeySpec> specs{
        {"http", "port", Kind::Int, 1, 65535, {}, [](Config& c, const std::string& v) { c.http.port = to_int(v); }},
        {"http", "bind", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.http.bind = v; }},
        {"http", "public_base_url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.http.public_base_url = v; }},
        {"http", "tls_certificate", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.http.tls_certificate = v; }},
        {"http", "tls_key", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.http.tls_key = v; }},
        {"http", "tls_port", Kind::Int, 1, 65535, {}, [](Config& c, const std::string& v) { c.http.tls_port = to_int(v); }},
        {"http", "max_body_bytes", Kind::Int, 1024, 64L << 20, {}, [](Config& c, const std::string& v) { c.http.max_body_bytes = std::stol(v); }},
        {"http", "rate_limit_per_minute", Kind::Int, 1, 1000000, {}, [](Config& c, const std::string& v) { c.http.rate_limit_per_minute = to_int(v); }},
        {"http", "rate_limit_burst", Kind::Int, 1, 100000, {}, [](Config& c, const std::string& v) { c.http.rate_limit_burst = to_int(v); }},
        {"http", "max_connections", Kind::Int, 16, 100000, {}, [](Config& c, const std::string& v) { c.http.max_connections = to_int(v); }},
        {"http", "max_connections_per_address", Kind::Int, 4, 100000, {}, [](Config& c, const std::string& v) { c.http.max_connections_per_address = to_int(v); }},
        {"http", "reserved_fds", Kind::Int, 0, 10000, {}, [](Config& c, const std::string& v) { c.http.reserved_fds = to_int(v); }},
        {"http", "header_timeout_seconds", Kind::Int, 1, 300, {}, [](Config& c, const std::string& v) { c.http.header_timeout_seconds = to_int(v); }},
        {"http", "idle_timeout_seconds", Kind::Int, 1, 3600, {}, [](Config& c, const std::string& v) { c.http.idle_timeout_seconds = to_int(v); }},
        {"http", "body_timeout_seconds", Kind::Int, 1, 3600, {}, [](Config& c, const std::string& v) { c.http.body_timeout_seconds = to_int(v); }},
        {"cloud", "url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.cloud.url = v; }},
        {"cloud", "clinic_id", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.cloud.clinic_id = v; }},
        {"cloud", "anon_key", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.cloud.anon_key = v; }},
        {"cloud", "poll_seconds", Kind::Int, 5, 3600, {}, [](Config& c, const std::string& v) { c.cloud.poll_seconds = to_int(v); }},
        {"cloud", "storage_bucket", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.cloud.storage_bucket = v; }},
        {"cloud", "storage_url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.cloud.storage_url = v; }},
        {"twilio", "api_base_url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.twilio.api_base_url = v; }},
        {"twilio", "account_sid", Kind::Sid, 0, 0, {"AC"}, [](Config& c, const std::string& v) { c.twilio.account_sid = v; }},
        {"twilio", "api_key_sid", Kind::Sid, 0, 0, {"SK"}, [](Config& c, const std::string& v) { c.twilio.api_key_sid = v; }},
        {"twilio", "from_number", Kind::Phone, 0, 0, {}, [](Config& c, const std::string& v) { c.twilio.from_number = v; }},
        {"twilio", "messaging_service_sid", Kind::Sid, 0, 0, {"MG"}, [](Config& c, const std::string& v) { c.twilio.messaging_service_sid = v; }},
        {"callbacks", "room_status_url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.callbacks.room_status_url = v; }},
        {"callbacks", "recording_status_url", Kind::Url, 0, 0, {}, [](Config& c, const std::string& v) { c.callbacks.recording_status_url = v; }},
        {"callbacks", "account_sid", Kind::Sid, 0, 0, {"AC"}, [](Config& c, const std::string& v) { c.callbacks.account_sid = v; }},
        {"callbacks", "retry_seconds", Kind::Int, 1, 3600, {}, [](Config& c, const std::string& v) { c.callbacks.retry_seconds = to_int(v); }},
        {"email", "smtp_url", Kind::Url, 0, 0, {"smtp", "smtps"}, [](Config& c, const std::string& v) { c.email.smtp_url = v; }},
        {"email", "from", Kind::Email, 0, 0, {}, [](Config& c, const std::string& v) { c.email.from = v; }},
        {"notify", "channels", Kind::Enum, 0, 0, {"sms", "email", "both", "none"}, [](Config& c, const std::string& v) { c.notify.channels = v; }},
        {"notify", "clock_seconds", Kind::Int, 1, 300, {}, [](Config& c, const std::string& v) { c.notify.clock_seconds = to_int(v); }},
        {"notify", "prepare_at_booking", Kind::Enum, 0, 0, {"true", "false"}, [](Config& c, const std::string& v) { c.notify.prepare_at_booking = v == "true"; }},
        {"media", "camera", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.media.camera = v; }},
        {"media", "microphone", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.media.microphone = v; }},
        {"media", "speaker", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.media.speaker = v; }},
        {"media", "content_camera", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.media.content_camera = v; }},
        {"media", "encoder", Kind::Enum, 0, 0,
         {"auto", "vah264enc", "vaapih264enc", "v4l2h264enc", "x264enc", "openh264enc", "vp8enc"},
         [](Config& c, const std::string& v) { c.media.encoder = v; }},
        {"media", "max_width", Kind::Int, 160, 3840, {}, [](Config& c, const std::string& v) { c.media.max_width = to_int(v); }},
        {"media", "max_height", Kind::Int, 120, 2160, {}, [](Config& c, const std::string& v) { c.media.max_height = to_int(v); }},
        {"media", "max_fps", Kind::Int, 1, 60, {}, [](Config& c, const std::string& v) { c.media.max_fps = to_int(v); }},
        {"media", "stun_servers", Kind::Text, 0, 0, {}, [](Config& c, const std::string& v) { c.media.stun_servers = split_list(v); }},
        {"sessions", "token_ttl_seconds", Kind::Int, 60, 3600, {}, [](Config& c, const std::string& v) { c.sessions.token_ttl_seconds = to_int(v); }},
        {"sessions", "grace_minutes", Kind::Int, 0, 120, {}, [](Config& c, const std::string& v) { c.sessions.grace_minutes = to_int(v); }},
        {"sessions", "rejoin_seconds", Kind::Int, 0, 3600, {}, [](Config& c, const std::string& v) { c.sessions.rejoin_seconds = to_int(v); }},
        {"sessions", "max_minutes", Kind::Int, 5, 480, {}, [](Config& c, const std::string& v) { c.sessions.max_minutes = to_int(v); }},
        {"recording", "enabled", Kind::Enum, 0, 0, {"true", "false"}, [](Config& c, const std::string& v) { c.recording.enabled = v == "true"; }},
        {"recording", "retention_days", Kind::Int, 1, 3650, {}, [](Config& c, const std::string& v) { c.recording.retention_days = to_int(v); }},
        {"recording", "on_withdrawal", Kind::Enum, 0, 0, {"keep", "delete"}, [](Config& c, const std::string& v) { c.recording.on_withdrawal = v; }},
        {"recording", "include_patient", Kind::Enum, 0, 0, {"true", "false"}, [](Config& c, const std::string& v) { c.recording.include_patient = v == "true"; }},
        {"recording", "min_free_minutes", Kind::Int, 1, 600, {}, [](Config& c, const std::string& v) { c.recording.min_free_minutes = to_int(v); }},
        {"kiosk", "idle_seconds", Kind::Int, 30, 3600, {}, [](Config& c, const std::string& v) { c.kiosk.idle_seconds = to_int(v); }},
        {"kiosk", "token_ttl_seconds", Kind::Int, 60, 3600, {}, [](Config& c, const std::string& v) { c.kiosk.token_ttl_seconds = to_int(v); }},
        {"update", "window", Kind::Window, 0, 0, {}, [](Config& c, const std::string& v) { c.update.window = v; }},
        {"log", "level", Kind::Enum, 0, 0, {"error", "warning", "info", "debug"}, [](Config& c, const std::string& v) { c.log.level = v; }},
    };
    return specs;
}

const KeySpec* find_spec(std::string_view section, std::string_view key) {
    for (const auto& s : schema())
        if (section == s.section && key == s.key) return &s;
    return nullptr;
}

// Returns the reason a value is unacceptable, or nothing when it is fine.
std::optional<std::string> invalid(const KeySpec& spec, const std::string& v) {
    switch (spec.kind) {
    case Kind::Int: {
        long n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || v.empty())
            return "'" + v + "' is not a whole number";
        if (n < spec.min || n > spec.max)
            return std::to_string(n) + " is outside " + std::to_string(spec.min) + ".." + std::to_string(spec.max);
        return std::nullopt;
    }
    case Kind::Text:
        if (v.find_first_of("\r\n") != std::string::npos) return "contains a line break";
        return std::nullopt;
    case Kind::Url: {
        if (v.empty()) return std::nullopt;
        std::vector<std::string_view> schemes = spec.choices;
        if (schemes.empty()) schemes = {"http", "https"};
        const char* scheme = g_uri_peek_scheme(v.c_str());  // interned, not ours to free
        if (!scheme || std::find(schemes.begin(), schemes.end(), std::string_view(scheme)) == schemes.end())
            return "'" + v + "' is not a URL with scheme " + std::string(schemes.front()) +
                   (schemes.size() > 1 ? " or " + std::string(schemes.back()) : "");
        if (!g_uri_is_valid(v.c_str(), G_URI_FLAGS_NONE, nullptr)) return "'" + v + "' is not a valid URL";
        return std::nullopt;
    }
    case Kind::Enum:
        if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end()) {
            std::string all;
            for (auto c : spec.choices) all += (all.empty() ? "" : ", ") + std::string(c);
            return "'" + v + "' is not one of: " + all;
        }
        return std::nullopt;
    case Kind::Phone:
        if (v.empty() || is_e164(v)) return std::nullopt;
        return "'" + v + "' is not a phone number in E.164 form (+15551234567)";
    case Kind::Sid:
        if (v.empty() || is_sid(v, spec.choices.front())) return std::nullopt;
        return "is not a Twilio SID (" + std::string(spec.choices.front()) + " followed by 32 hex digits)";
    case Kind::Email:
        if (v.empty() || is_email(v)) return std::nullopt;
        return "'" + v + "' is not an email address";
    case Kind::Window:
        if (auto w = update::parse_window(v); !w) return w.error();
        return std::nullopt;
    }
    return std::nullopt;
}

struct Value { std::string text; std::string file; };
using Values = std::map<std::string, Value>;  // "section.key" → value and origin

std::optional<ConfigError> read_file(const std::filesystem::path& path, Values& values,
                                     std::vector<std::string>& warnings) {
    GKeyFilePtr kf(g_key_file_new());
    GErrorOut err;
    if (!g_key_file_load_from_file(kf.get(), path.c_str(), G_KEY_FILE_NONE, err.out()))
        return ConfigError{path.string(), "", err.message()};
    GStrvPtr groups(g_key_file_get_groups(kf.get(), nullptr));
    for (gchar** g = groups.get(); *g; ++g) {
        GStrvPtr keys(g_key_file_get_keys(kf.get(), *g, nullptr, nullptr));
        for (gchar** k = keys.get(); k && *k; ++k) {
            if (!find_spec(*g, *k)) {
                warnings.push_back(path.string() + ": unknown key [" + *g + "] " + *k + " (ignored)");
                continue;
            }
            GErrorOut verr;
            GCharPtr v(g_key_file_get_string(kf.get(), *g, *k, verr.out()));
            if (!v) return ConfigError{path.string(), std::string(*g) + "." + *k, verr.message()};
            values[std::string(*g) + "." + *k] = {v.get(), path.string()};
        }
    }
    return std::nullopt;
}

std::vector<std::filesystem::path> drop_ins(const std::filesystem::path& main) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    auto dir = std::filesystem::path(main).concat(".d");
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".conf" && e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::string Config::public_base_url() const {
    if (!http.public_base_url.empty()) return http.public_base_url;
    return "http://127.0.0.1:" + std::to_string(http.port);
}

std::string ConfigError::describe() const {
    std::string where = file.empty() ? "command line" : file;
    if (!key.empty()) where += ": " + key;
    return where + ": " + reason;
}

expected<LoadedConfig, ConfigError> load_config(const ConfigSources& sources) {
    LoadedConfig out;
    Values values;
    std::error_code ec;
    if (std::filesystem::exists(sources.main, ec)) {
        if (auto e = read_file(sources.main, values, out.warnings)) return unexpected(*e);
        out.files.push_back(sources.main);
    } else if (sources.main_required) {
        return unexpected(ConfigError{sources.main.string(), "", "no such file"});
    }
    for (const auto& d : drop_ins(sources.main)) {
        if (auto e = read_file(d, values, out.warnings)) return unexpected(*e);
        out.files.push_back(d);
    }
    for (const auto& settings : sources.settings_files) {
        if (settings.empty() || !std::filesystem::exists(settings, ec)) continue;
        if (auto e = read_file(settings, values, out.warnings)) return unexpected(*e);
        out.files.push_back(settings);
    }
    for (const auto& o : sources.overrides) {
        auto eq = o.find('='), dot = o.find('.');
        if (eq == std::string::npos || dot == std::string::npos || dot > eq)
            return unexpected(ConfigError{"", o, "expected section.key=value"});
        if (!find_spec(o.substr(0, dot), o.substr(dot + 1, eq - dot - 1)))
            return unexpected(ConfigError{"", o.substr(0, eq), "unknown key"});
        values[o.substr(0, eq)] = {o.substr(eq + 1), ""};
    }
    for (const auto& [name, value] : values) {
        auto dot = name.find('.');
        const KeySpec* spec = find_spec(name.substr(0, dot), name.substr(dot + 1));
        if (auto reason = invalid(*spec, value.text))
            return unexpected(ConfigError{value.file, name, *reason});
        spec->assign(out.config, value.text);
    }
    return out;
}

}  // namespace consult
