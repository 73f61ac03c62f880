#include "appliance/update/rauc.hpp"

#include "appliance/update/release.hpp"

#include <glib.h>

#include <cstdlib>
#include <memory>
#include <sstream>

namespace consult::update {

namespace {

bool name_char(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

// The value of one assignment from `i` (after '='): single- and double-quoted parts, backslash
// escapes and bare characters up to an unquoted newline. Leaves `i` after that newline.
std::optional<std::string> shell_word(std::string_view t, std::size_t& i) {
    std::string v;
    while (i < t.size() && t[i] != '\n') {
        const char c = t[i++];
        if (c == '\'') {
            const auto end = t.find('\'', i);
            if (end == std::string_view::npos) return std::nullopt;   // an unclosed quote: not a value
            v.append(t.substr(i, end - i));
            i = end + 1;
        } else if (c == '"') {   // os-release's quoting: \ escapes one of " \ $ `
            for (;;) {
                if (i >= t.size()) return std::nullopt;
                const char d = t[i++];
                if (d == '"') break;
                if (d == '\\' && i < t.size() && std::string_view("\"\\$`").find(t[i]) != std::string_view::npos) {
                    v.push_back(t[i++]);
                    continue;
                }
                v.push_back(d);
            }
        } else if (c == '\\') {
            if (i < t.size() && t[i] != '\n') v.push_back(t[i++]);
        } else {
            v.push_back(c);
        }
    }
    if (i < t.size()) ++i;
    return v;
}

std::string var(const std::map<std::string, std::string>& vars, const std::string& key) {
    auto it = vars.find(key);
    return it == vars.end() ? std::string() : it->second;
}

std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

}  // namespace

std::map<std::string, std::string> parse_shell_vars(std::string_view t) {
    std::map<std::string, std::string> vars;
    std::size_t i = 0;
    while (i < t.size()) {
        const std::size_t start = i;
        while (i < t.size() && name_char(t[i])) ++i;
        if (i == start || i >= t.size() || t[i] != '=' || !(t[start] >= 'A' && t[start] <= 'Z')) {
            const auto nl = t.find('\n', i);   // not an assignment: skip the line
            i = nl == std::string_view::npos ? t.size() : nl + 1;
            continue;
        }
        const std::string key(t.substr(start, i - start));
        ++i;
        if (auto v = shell_word(t, i)) vars[key] = *v;
        else break;   // the rest is inside an unclosed quote
    }
    return vars;
}

const SlotStatus* RaucStatus::booted() const {
    for (const auto& s : slots)
        if (s.state == "booted") return &s;
    return nullptr;
}

const SlotStatus* RaucStatus::slot(std::string_view name) const {
    for (const auto& s : slots)
        if (s.name == name) return &s;
    return nullptr;
}

expected<RaucStatus, std::string> parse_rauc_status(std::string_view text) {
    const auto vars = parse_shell_vars(text);
    RaucStatus st;
    st.compatible = var(vars, "RAUC_SYSTEM_COMPATIBLE");
    st.booted_bootname = var(vars, "RAUC_SYSTEM_BOOTED_BOOTNAME");
    st.boot_primary = var(vars, "RAUC_BOOT_PRIMARY");
    const auto names = words(var(vars, "RAUC_SYSTEM_SLOTS"));
    const auto numbers = words(var(vars, "RAUC_SLOTS"));
    if (names.empty() || names.size() != numbers.size())
        return unexpected(std::string("rauc status names no slots"));
    for (std::size_t k = 0; k < names.size(); ++k) {
        const std::string& n = numbers[k];
        st.slots.push_back({names[k], var(vars, "RAUC_SLOT_BOOTNAME_" + n), var(vars, "RAUC_SLOT_STATE_" + n),
                            var(vars, "RAUC_SLOT_BOOT_STATUS_" + n), var(vars, "RAUC_SLOT_STATUS_BUNDLE_VERSION_" + n)});
    }
    return st;
}

expected<BundleInfo, std::string> parse_bundle_info(std::string_view text) {
    const auto vars = parse_shell_vars(text);
    BundleInfo b{var(vars, "RAUC_MF_COMPATIBLE"), var(vars, "RAUC_MF_VERSION")};
    if (b.compatible.empty()) return unexpected(std::string("the bundle's manifest names no compatible"));
    return b;
}

std::string image_version(std::string_view os_release_text, const std::string& fallback) {
    const auto v = var(parse_shell_vars(os_release_text), "IMAGE_VERSION");
    return is_release_version(v) ? v : fallback;
}

std::string rauc_reason(std::string_view err) {
    std::string best;
    std::size_t i = 0;
    while (i < err.size()) {
        auto nl = err.find('\n', i);
        if (nl == std::string_view::npos) nl = err.size();
        std::string line;
        for (char c : err.substr(i, nl - i))
            if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) line.push_back(c);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        // "rauc-Message: ..." lines are progress; the refusal is an error line after them.
        if (!line.empty() && line.rfind("rauc-Message", 0) != 0) best = line;
        i = nl + 1;
    }
    if (best.empty()) best = "rauc said nothing about why";
    if (best.size() > 300) best.resize(300);
    return best;
}

Rauc::Rauc() {
    const char* p = std::getenv("CONSULT_RAUC");
    program_ = p && *p ? p : "rauc";
}

expected<Rauc::Output, std::string> Rauc::run(const std::vector<std::string>& args) const {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program_.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    gchar* out = nullptr;
    gchar* err = nullptr;
    gint wait_status = 0;
    GError* error = nullptr;
    const bool ok = g_spawn_sync(nullptr, argv.data(), nullptr,
                                 GSpawnFlags(G_SPAWN_SEARCH_PATH | G_SPAWN_CLOEXEC_PIPES), nullptr, nullptr, &out, &err,
                                 &wait_status, &error);
    std::unique_ptr<gchar, decltype(&g_free)> o(out, g_free), e(err, g_free);
    if (!ok) {
        std::string why = error ? error->message : "unknown error";
        g_clear_error(&error);
        return unexpected("cannot run " + program_ + ": " + why);
    }
    Output r;
    r.out = out ? out : "";
    r.err = err ? err : "";
    if (WIFEXITED(wait_status)) r.exit_code = WEXITSTATUS(wait_status);
    return r;
}

expected<RaucStatus, std::string> Rauc::status() const {
    auto r = run({"status", "--detailed", "--output-format=shell"});
    if (!r) return unexpected(r.error());
    if (r->exit_code != 0) return unexpected("rauc status: " + rauc_reason(r->err));
    return parse_rauc_status(r->out);
}

expected<BundleInfo, std::string> Rauc::info(const std::filesystem::path& bundle) const {
    auto r = run({"info", "--output-format=shell", bundle.string()});
    if (!r) return unexpected(r.error());
    if (r->exit_code != 0) return unexpected(rauc_reason(r->err));
    return parse_bundle_info(r->out);
}

expected<void, std::string> Rauc::install(const std::filesystem::path& bundle) const {
    auto r = run({"install", bundle.string()});
    if (!r) return unexpected(r.error());
    if (r->exit_code != 0) return unexpected(rauc_reason(r->err + "\n" + r->out));
    return {};
}

expected<void, std::string> Rauc::mark_good() const {
    auto r = run({"status", "mark-good", "booted"});
    if (!r) return unexpected(r.error());
    if (r->exit_code != 0) return unexpected(rauc_reason(r->err));
    return {};
}

}  // namespace consult::update
