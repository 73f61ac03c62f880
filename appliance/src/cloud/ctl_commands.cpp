#include "appliance/cloud/ctl_commands.hpp"

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/cloud/postgrest.hpp"
#include "appliance/credentials.hpp"
#include "appliance/local_daemon.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/tokens/token_service.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace consult::cloud {

namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(0, 1);
    return s;
}

std::optional<std::string> read_secret(const std::optional<fs::path>& file, const char* what) {
    if (file) {
        std::ifstream in(*file);
        if (!in) return std::nullopt;
        std::stringstream ss;
        ss << in.rdbuf();
        return trimmed(ss.str());
    }
    std::fprintf(stderr, "%s: ", what);
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return trimmed(line);
}

// POST /api/system/cloud/sync; the daemon's status JSON, or nothing when it is not running.
std::optional<nlohmann::json> ask_daemon_to_sync(const Config& config, const fs::path& state_dir) {
    auto token = local_admin_token(state_dir);
    if (!token) return std::nullopt;
    net::HttpRequest req{.method = "POST", .url = local_daemon_url(config, "/api/system/cloud/sync"),
                         .headers = {{"Authorization", "Bearer " + *token}}, .timeout = std::chrono::milliseconds(3000)};
    auto r = net::HttpClient::send_blocking(req);
    if (r.status != 202) return std::nullopt;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

}  // namespace

int pair(const Config& config, const fs::path& state_dir, const PairOptions& o) {
    if (config.cloud.url.empty() || config.cloud.clinic_id.empty()) {
        std::fprintf(stderr, "consultctl: set [cloud] url and clinic_id in the configuration before pairing\n");
        return 2;
    }
    auto key = read_secret(o.api_key_file, "cloud API key");
    auto token = key ? read_secret(o.device_token_file, "device token") : std::nullopt;
    if (!key || !token || key->empty() || token->empty()) {
        std::fprintf(stderr, "consultctl: pair needs the project's API key and this device's token\n");
        return 64;
    }
    if (o.check) {
        Endpoint e{config.cloud.url, *key, *token, std::chrono::milliseconds(10000)};
        auto r = net::HttpClient::send_blocking(probe_request(e, config.cloud.clinic_id));
        switch (classify(r)) {
        case Outcome::Done: {
            auto rows = nlohmann::json::parse(r.body, nullptr, false);
            if (!rows.is_array() || rows.empty()) {
                std::fprintf(stderr, "consultctl: the cloud accepted the credentials but shows no clinic %s to them; "
                                     "is [cloud] clinic_id right?\n", config.cloud.clinic_id.c_str());
                return 1;
            }
            break;
        }
        case Outcome::Unauthorized:
            std::fprintf(stderr, "consultctl: the cloud refused these credentials (%s); nothing stored\n",
                         parse_error(r).summary().c_str());
            return 1;
        default:
            std::fprintf(stderr, "consultctl: cannot check the credentials at %s (%s); nothing stored "
                                 "(--no-check stores them unchecked)\n", config.cloud.url.c_str(),
                         parse_error(r).summary().c_str());
            return 2;
        }
    }
    Credentials creds(state_dir);
    for (auto [name, value] : {std::pair{"cloud-api-key", &*key}, std::pair{"cloud-device-token", &*token}}) {
        if (auto stored = creds.store(name, *value); !stored) {
            std::fprintf(stderr, "consultctl: %s\n", stored.error().c_str());
            return 2;
        }
    }
    std::printf("paired with %s (clinic %s)%s\n", config.cloud.url.c_str(), config.cloud.clinic_id.c_str(),
                o.check ? "" : " without checking");
    if (ask_daemon_to_sync(config, state_dir)) std::printf("consultd is syncing now\n");
    return 0;
}

int sync_now(const Config& config, const fs::path& state_dir) {
    if (auto started = ask_daemon_to_sync(config, state_dir)) {
        // Wait for the run we asked for: the state leaves "syncing" and the times move.
        const auto before = *started;
        const gint64 limit = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
        std::optional<nlohmann::json> now;
        bool seen_running = before.value("state", "") == "syncing";
        while (g_get_monotonic_time() < limit) {
            g_usleep(200000);
            now = daemon_cloud_status(config);
            if (!now) break;
            const std::string state = now->value("state", "");
            if (state == "syncing") { seen_running = true; continue; }
            if (seen_running || (*now)["last_pull_at"] != before["last_pull_at"] ||
                (*now)["last_error_at"] != before["last_error_at"] || state == "off" || state == "repair_needed")
                break;
        }
        if (!now) { std::fprintf(stderr, "consultctl: consultd stopped answering\n"); return 3; }
        std::fputs(status_lines(*now).c_str(), stdout);
        return now->value("state", "") == "idle" ? 0 : 1;
    }
    // consultd is not running: one run here, on this process's own main loop.
    try {
        auto db = store::Database::open(state_dir / "consult.db");
        store::migrate(db);
        CloudSync sync(db, state_dir, SyncSettings{config.cloud.url, config.cloud.clinic_id, config.cloud.poll_seconds});
        if (!sync.enabled()) {
            std::fputs(status_lines(sync.status()).c_str(), stdout);
            return 1;
        }
        bool done = false;
        sync.on_run_end([&] { done = true; });
        sync.sync_now();
        const gint64 limit = g_get_monotonic_time() + 600 * G_USEC_PER_SEC;
        while (!done && g_get_monotonic_time() < limit) g_main_context_iteration(nullptr, TRUE);
        auto status = sync.status();
        std::fputs(status_lines(status).c_str(), stdout);
        return done && status.value("last_error_at", nlohmann::json()) == nlohmann::json() ? 0 : (done ? 1 : 2);
    } catch (const store::StoreError& e) {
        std::fprintf(stderr, "consultctl: %s\n", e.what());
        return 2;
    }
}

std::optional<nlohmann::json> daemon_cloud_status(const Config& config) {
    auto r = net::HttpClient::send_blocking({.url = local_daemon_url(config, "/api/system/cloud"),
                                             .timeout = std::chrono::milliseconds(3000)});
    if (r.status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    return j;
}

std::string status_lines(const nlohmann::json& c) {
    auto text = [&](const char* k, const char* none = "never") {
        return c.contains(k) && c[k].is_string() ? c[k].get<std::string>() : std::string(none);
    };
    auto number = [&](const char* k) { return c.contains(k) && c[k].is_number() ? c[k].dump() : std::string("?"); };
    std::string out;
    const std::string state = text("state", "?");
    if (state == "off") out += "cloud sync:      off (" + text("off_reason", "?") + ")\n";
    else if (state == "repair_needed") out += "cloud sync:      RE-PAIRING NEEDED (run consultctl pair): " + text("repair_reason", "") + "\n";
    else out += "cloud sync:      " + state + " (" + text("url", "") + ")\n";
    out += "last pull:       " + text("last_pull_at") + "\n";
    out += "last push:       " + text("last_push_at") + "\n";
    out += "outbox:          " + number("outbox_depth") + " waiting, " + number("parked_rows") + " parked\n";
    out += "last error:      " + text("last_error", "none") + (c.contains("last_error_at") && c["last_error_at"].is_string()
                                                                   ? " (at " + text("last_error_at") + ")" : "") + "\n";
    return out;
}

}  // namespace consult::cloud
