#include "appliance/fleet/box_facts.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>

namespace consult::fleet {

namespace {

std::filesystem::path env_or(const char* name, const std::filesystem::path& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::filesystem::path(v) : fallback;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

}  // namespace

BoxPaths BoxPaths::from_environment() {
    BoxPaths p;
    p.cmdline = env_or("CONSULT_PROC_CMDLINE", p.cmdline);
    p.boot_id = env_or("CONSULT_BOOT_ID_FILE", p.boot_id);
    p.uptime = env_or("CONSULT_PROC_UPTIME", p.uptime);
    p.os_release = env_or("CONSULT_OS_RELEASE", p.os_release);
    return p;
}

std::optional<std::string> read_small_file(const std::filesystem::path& file, std::size_t limit) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::string text(limit, '\0');
    in.read(text.data(), std::streamsize(limit));
    if (in.bad()) return std::nullopt;
    text.resize(std::size_t(in.gcount()));
    return text;
}

std::optional<char> booted_slot(std::string_view cmdline) {
    constexpr std::string_view kKey = "rauc.slot=";
    std::optional<char> slot;
    std::size_t i = 0;
    while (i < cmdline.size()) {
        while (i < cmdline.size() && std::isspace(static_cast<unsigned char>(cmdline[i]))) ++i;
        std::size_t end = i;
        while (end < cmdline.size() && !std::isspace(static_cast<unsigned char>(cmdline[end]))) ++end;
        const std::string_view word = cmdline.substr(i, end - i);
        i = end;
        if (!word.starts_with(kKey)) continue;
        const std::string_view value = word.substr(kKey.size());
        if (value != "a" && value != "b") return std::nullopt;   // a slot this box does not have
        if (slot && *slot != value[0]) return std::nullopt;      // two answers: none is believed
        slot = value[0];
    }
    return slot;
}

bool uuid_shaped(std::string_view id) {
    if (id.size() != 36) return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
    }
    return true;
}

std::optional<std::string> boot_id(std::string_view text) {
    const std::string_view id = trim(text);
    if (!uuid_shaped(id)) return std::nullopt;
    return std::string(id);
}

std::optional<std::int64_t> uptime_seconds(std::string_view proc_uptime) {
    std::string_view t = trim(proc_uptime);
    std::int64_t seconds = 0;
    std::size_t i = 0;
    for (; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) {
        if (i >= 12) return std::nullopt;   // over 30,000 years: not an uptime
        seconds = seconds * 10 + (t[i] - '0');
    }
    if (i == 0 || (i < t.size() && t[i] != '.' && !std::isspace(static_cast<unsigned char>(t[i])))) return std::nullopt;
    return seconds;
}

}  // namespace consult::fleet
