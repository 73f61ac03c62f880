#include "appliance/cloud/sync_state.hpp"

#include <openssl/sha.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace consult::cloud {

namespace {

nlohmann::json opt(const std::optional<std::string>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
std::optional<std::string> opt_text(const nlohmann::json& j, const char* k) {
    if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    return std::nullopt;
}

}  // namespace

nlohmann::json SyncState::to_json() const {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [table, cur] : cursors) c[table] = {{"updated_at", cur.updated_at}, {"id", cur.id}};
    return {{"cursors", c}, {"last_pull_at", opt(last_pull_at)}, {"last_push_at", opt(last_push_at)},
            {"last_error", opt(last_error)}, {"last_error_at", opt(last_error_at)},
            {"repair_needed", repair_needed}, {"repair_reason", repair_reason},
            {"paired_fingerprint", paired_fingerprint}, {"pulled_rows", pulled_rows}, {"pushed_rows", pushed_rows}};
}

SyncState SyncState::from_json(const nlohmann::json& j) {
    SyncState s;
    if (!j.is_object()) return s;
    if (j.contains("cursors") && j["cursors"].is_object())
        for (const auto& [table, cur] : j["cursors"].items())
            if (cur.is_object()) s.cursors[table] = {cur.value("updated_at", ""), cur.value("id", "")};
    s.last_pull_at = opt_text(j, "last_pull_at");
    s.last_push_at = opt_text(j, "last_push_at");
    s.last_error = opt_text(j, "last_error");
    s.last_error_at = opt_text(j, "last_error_at");
    s.repair_needed = j.value("repair_needed", false);
    s.repair_reason = j.value("repair_reason", "");
    s.paired_fingerprint = j.value("paired_fingerprint", "");
    s.pulled_rows = j.value("pulled_rows", 0L);
    s.pushed_rows = j.value("pushed_rows", 0L);
    return s;
}

std::filesystem::path SyncState::file(const std::filesystem::path& state_dir) { return state_dir / "cloud-sync.json"; }

SyncState SyncState::load(const std::filesystem::path& state_dir) {
    std::ifstream in(file(state_dir));
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    return from_json(nlohmann::json::parse(ss.str(), nullptr, false));
}

bool SyncState::save(const std::filesystem::path& state_dir) const {
    const auto target = file(state_dir);
    const auto tmp = target.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return false;
        out << to_json().dump(1) << '\n';
        out.flush();
        if (!out) return false;
    }
    if (FILE* f = std::fopen(tmp.c_str(), "r")) {   // on disk before the rename makes it the state
        ::fsync(fileno(f));
        std::fclose(f);
    }
    return std::rename(tmp.c_str(), target.c_str()) == 0;
}

std::string credentials_fingerprint(const std::string& api_key, const std::string& device_token) {
    const std::string both = api_key + '\n' + device_token;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(both.data()), both.size(), md);
    char hex[17];
    for (int i = 0; i < 8; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

}  // namespace consult::cloud
