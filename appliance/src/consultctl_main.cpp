// consultctl: clinic IT's tool for the appliance.
#include "appliance/cloud/ctl_commands.hpp"
#include "appliance/config.hpp"
#include "appliance/credentials.hpp"
#include "appliance/daemon.hpp"
#include "appliance/fleet/status_lines.hpp"
#include "appliance/hw_report.hpp"
#include "appliance/kiosk/ctl_set_pin.hpp"
#include "appliance/local_daemon.hpp"
#include "appliance/log.hpp"
#include "appliance/net/public_url.hpp"
#include "appliance/provision.hpp"
#include "appliance/notify/ctl_status.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/tokens/token_service.hpp"
#include "appliance/update/boot_check.hpp"
#include "appliance/update/ctl_update.hpp"
#include "appliance/version.hpp"

#include <curl/curl.h>
#include <gst/gst.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace consult;

constexpr const char* kUsage =
    "Usage: consultctl [--config FILE] [--state-dir DIR] COMMAND [ARGS]\n\n"
    "Commands:\n"
    "  status [--json]          what the running consultd reports\n"
    "  hw [--json]              probe cameras, microphones, speakers and encoders\n"
    "  token --role doctor|patient|admin --identity ID [--session ID] [--ttl SECONDS]\n"
    "                           sign an access token with the appliance key (prints only the token)\n"
    "  migrate [--check]        apply pending database migrations, or only list them\n"
    "  pair [--api-key-file F] [--device-token-file F] [--no-check]\n"
    "                           store the cloud credentials (read from stdin without files)\n"
    "  sync --now               sync with the cloud now and wait for the outcome\n"
    "  set-pin --doctor ID | --admin\n"
    "                           set a kiosk PIN (4-8 digits, read from stdin)\n"
    "  hash-pin                 print the hash of a PIN read from stdin (for a provisioning file)\n"
    "  provision FILE           check and apply a provisioning file (consult-provision.conf)\n"
    "  boot-check [--timeout SECONDS]\n"
    "                           wait until consultd of this software answers healthy, its store\n"
    "                           migrated and the kiosk page served (the boot assessment)\n"
    "  update status [--json]   this box's version, slots, the install waiting for a restart and\n"
    "                           the last update attempt\n"
    "  update check [--now] [--poll-seconds N]\n"
    "                           ask the clinic cloud which release to run; download, check and\n"
    "                           install it and restart, never while anyone is in a consultation and\n"
    "                           only inside [update] window unless --now\n"
    "  update install FILE [--restart] [--poll-seconds N]\n"
    "                           check and install a bundle (e.g. from a USB stick) into the other slot\n"
    "  update stick [--poll-seconds N]\n"
    "                           answer the kiosk's USB-stick request (look for bundles, or install\n"
    "                           one and restart once nobody is in a consultation); run as root by\n"
    "                           consult-update-stick.service\n"
    "  update mark-good         mark the booted slot good (the boot check does this by itself)\n\n"
    "Exit codes: 0 ok, 1 check failed / degraded / update refused, 2 error, 3 consultd not running,\n"
    "4 update postponed (a consultation running, or outside the window), 64 usage,\n"
    "65 a provisioning file refused, 66 a file that cannot be read.\n";

int usage(const std::string& msg) {
    std::fprintf(stderr, "consultctl: %s\n%s", msg.c_str(), kUsage);
    return 64;
}

int fail(const std::string& msg) {
    std::fprintf(stderr, "consultctl: %s\n", msg.c_str());
    return 2;
}

struct Global {
    ConfigSources config;
    std::optional<fs::path> state_dir;
    Config loaded;
    fs::path state() const { return state_dir.value_or(default_state_dir()); }
};

// --flag value pairs and bare --flags after the command.
struct Args {
    std::map<std::string, std::string> values;
    std::vector<std::string> flags;
    bool has(const std::string& f) const {
        return std::find(flags.begin(), flags.end(), f) != flags.end();
    }
};

std::optional<Args> parse_args(int argc, char** argv, int from, const std::vector<std::string>& with_value,
                               const std::vector<std::string>& bare, std::string& error) {
    Args out;
    for (int i = from; i < argc; ++i) {
        std::string a = argv[i];
        if (std::find(with_value.begin(), with_value.end(), a) != with_value.end()) {
            if (i + 1 >= argc) { error = a + " needs a value"; return std::nullopt; }
            out.values[a] = argv[++i];
        } else if (std::find(bare.begin(), bare.end(), a) != bare.end()) {
            out.flags.push_back(a);
        } else {
            error = "unexpected argument '" + a + "'";
            return std::nullopt;
        }
    }
    return out;
}

size_t collect(char* p, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(p, size * n);
    return size * n;
}

int cmd_status(const Global& g, const Args& args) {
    const std::string url = local_daemon_url(g.loaded, "/healthz");
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(curl.get(), CURLOPT_NOPROXY, "*");  // the daemon is local; never ask a proxy
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    if (CURLcode rc = curl_easy_perform(curl.get()); rc != CURLE_OK) {
        std::fprintf(stderr, "consultctl: consultd is not answering at %s (%s)\n", url.c_str(), curl_easy_strerror(rc));
        return 3;
    }
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("consultd answered with something that is not JSON");
    const auto link_warning = net::public_url_warning(g.loaded.public_base_url());
    if (args.has("--json")) {
        j["public_base_url"] = g.loaded.public_base_url();
        j["public_base_url_warning"] = link_warning ? nlohmann::json(*link_warning) : nlohmann::json(nullptr);
        if (auto cloud = cloud::daemon_cloud_status(g.loaded)) j["cloud"] = *cloud;
        j["messaging"] = notify::messaging_status(g.loaded, g.state());
        auto fleet = fleet::daemon_fleet_status(g.loaded, g.state());
        j["fleet"] = fleet ? *fleet : nlohmann::json{{"problem", fleet.error()}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        auto field = [&](const char* k) { return j.contains(k) ? (j[k].is_string() ? j[k].get<std::string>() : j[k].dump()) : "?"; };
        std::printf("status:          %s\nversion:         %s\nschema version:  %s\ndatabase:        %s\n",
                    field("status").c_str(), field("version").c_str(), field("schema_version").c_str(), field("db").c_str());
        std::string camera = j.contains("camera") && j["camera"].is_object() ? j["camera"].value("name", "?") : field("camera");
        std::printf("camera:          %s\nencoder:         %s\n", camera.c_str(), field("encoder").c_str());
        std::printf("patients' links: %s\n", g.loaded.public_base_url().c_str());
        if (link_warning) std::printf("WARNING:         %s\n", link_warning->c_str());
        if (auto cloud = cloud::daemon_cloud_status(g.loaded)) std::fputs(cloud::status_lines(*cloud).c_str(), stdout);
        std::fputs(notify::messaging_status_lines(notify::messaging_status(g.loaded, g.state())).c_str(), stdout);
        // The fleet report wants an admin token: a user who cannot read the box's key gets the reason.
        if (auto fleet = fleet::daemon_fleet_status(g.loaded, g.state())) std::fputs(fleet::fleet_status_lines(*fleet).c_str(), stdout);
        else std::printf("fleet report:    not shown: %s\n", fleet.error().c_str());
    }
    return j.value("status", "") == "ok" ? 0 : 1;
}

int cmd_hw(const Global& g, const Args& args) {
    auto r = hw::probe(probe_settings(g.loaded.media));
    if (args.has("--json")) std::printf("%s\n", probe_to_json(r).dump(2).c_str());
    else std::fputs(probe_to_text(r).c_str(), stdout);
    return r.encoder ? 0 : 1;
}

int cmd_token(const Global& g, const Args& args) {
    auto it = args.values.find("--role");
    if (it == args.values.end()) return usage("token needs --role doctor|patient|admin");
    auto role = tokens::parse_role(it->second);
    if (!role) return usage("--role must be doctor, patient or admin, not '" + it->second + "'");
    auto id = args.values.find("--identity");
    if (id == args.values.end()) return usage("token needs --identity ID");
    std::optional<std::string> session;
    if (auto s = args.values.find("--session"); s != args.values.end()) session = s->second;
    int ttl = g.loaded.sessions.token_ttl_seconds;
    if (auto t = args.values.find("--ttl"); t != args.values.end()) {
        char* end = nullptr;
        long v = std::strtol(t->second.c_str(), &end, 10);
        if (t->second.empty() || *end || v <= 0 || v > tokens::TokenService::kMaxTtlSeconds)
            return usage("--ttl must be 1-3600 seconds");
        ttl = int(v);
    }
    auto key = Credentials(g.state()).read_or_create("token-signing-key", 32);
    if (!key) return fail(key.error());
    tokens::TokenService service(*key, g.loaded.sessions.token_ttl_seconds);
    auto issued = service.issue(id->second, *role, session, ttl, tokens::unix_now());
    if (!issued) return usage(issued.error());
    std::printf("%s\n", issued->token.c_str());
    return 0;
}

int cmd_migrate(const Global& g, const Args& args) {
    const fs::path path = g.state() / "consult.db";
    const bool check = args.has("--check");
    try {
        if (check && !fs::exists(path)) {
            std::printf("no database at %s: all %d migrations pending\n", path.c_str(), store::latest_schema_version());
            return 1;
        }
        if (!check) fs::create_directories(g.state());
        auto db = store::Database::open(path, check ? store::Database::Mode::ReadOnly : store::Database::Mode::ReadWrite);
        auto pending = store::pending_migrations(db);
        if (check) {
            std::printf("schema version %d of %d\n", db.user_version(), store::latest_schema_version());
            for (const auto* m : pending) std::printf("pending: %d %s\n", m->version, m->name);
            return pending.empty() ? 0 : 1;
        }
        int n = store::migrate(db);
        std::printf("applied %d migration(s); schema version %d\n", n, db.user_version());
        return 0;
    } catch (const store::StoreError& e) {
        return fail(path.string() + ": " + e.what());
    }
}

}  // namespace

int main(int argc, char** argv) {
    Global g;
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") { std::fputs(kUsage, stdout); return 0; }
        if (a == "--config" && i + 1 < argc) { g.config.main = argv[++i]; g.config.main_required = true; }
        else if (a == "--state-dir" && i + 1 < argc) g.state_dir = argv[++i];
        else if (a.rfind("--", 0) == 0) return usage("unknown or incomplete option '" + a + "'");
        else break;
    }
    if (i >= argc) return usage("no command given");
    const std::string command = argv[i++];

    log::init("warning");
    // As consultd reads them: what provisioning set, then the kiosk's device choice.
    g.config.settings_files = {g.state() / "provisioned.conf", g.state() / "devices.conf"};
    auto loaded = load_config(g.config);
    if (!loaded) return fail("configuration: " + loaded.error().describe());
    g.loaded = loaded->config;

    std::string error;
    if (command == "status") {
        auto a = parse_args(argc, argv, i, {}, {"--json"}, error);
        if (!a) return usage(error);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int rc = cmd_status(g, *a);
        curl_global_cleanup();
        return rc;
    }
    if (command == "hw") {
        auto a = parse_args(argc, argv, i, {}, {"--json"}, error);
        if (!a) return usage(error);
        gst_init(nullptr, nullptr);
        return cmd_hw(g, *a);
    }
    if (command == "token") {
        auto a = parse_args(argc, argv, i, {"--role", "--identity", "--session", "--ttl"}, {}, error);
        return a ? cmd_token(g, *a) : usage(error);
    }
    if (command == "pair") {
        auto a = parse_args(argc, argv, i, {"--api-key-file", "--device-token-file"}, {"--no-check"}, error);
        if (!a) return usage(error);
        cloud::PairOptions o;
        if (a->values.count("--api-key-file")) o.api_key_file = a->values["--api-key-file"];
        if (a->values.count("--device-token-file")) o.device_token_file = a->values["--device-token-file"];
        o.check = !a->has("--no-check");
        return cloud::pair(g.loaded, g.state(), o);
    }
    if (command == "sync") {
        auto a = parse_args(argc, argv, i, {}, {"--now"}, error);
        return a ? cloud::sync_now(g.loaded, g.state()) : usage(error);
    }
    if (command == "set-pin") {
        auto a = parse_args(argc, argv, i, {"--doctor"}, {"--admin"}, error);
        if (!a) return usage(error);
        if (a->has("--admin") == (a->values.count("--doctor") > 0)) return usage("set-pin needs --doctor ID or --admin");
        std::optional<std::string> doctor;
        if (a->values.count("--doctor")) doctor = a->values["--doctor"];
        return kiosk::set_pin(g.state(), doctor, stdin);
    }
    if (command == "provision") {
        if (i + 1 != argc) return usage("provision needs the provisioning file, and nothing else");
        return provision::run(g.state(), argv[i]);
    }
    if (command == "hash-pin") {
        if (i != argc) return usage("hash-pin takes the PIN on stdin");
        return kiosk::hash_pin_command(stdin);
    }
    if (command == "migrate") {
        auto a = parse_args(argc, argv, i, {}, {"--check"}, error);
        return a ? cmd_migrate(g, *a) : usage(error);
    }
    if (command == "boot-check") {
        auto a = parse_args(argc, argv, i, {"--timeout"}, {}, error);
        if (!a) return usage(error);
        long timeout = 300;
        if (auto t = a->values.find("--timeout"); t != a->values.end()) {
            char* end = nullptr;
            timeout = std::strtol(t->second.c_str(), &end, 10);
            if (t->second.empty() || *end != '\0' || timeout < 0 || timeout > 3600)
                return usage("--timeout takes 0 to 3600 seconds");
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int rc = update::run_boot_check(local_daemon_url(g.loaded), {version(), store::latest_schema_version()},
                                        std::chrono::seconds(timeout));
        curl_global_cleanup();
        return rc;
    }
    if (command == "update") {
        if (i >= argc) return usage("update needs status, check, install FILE or mark-good");
        const std::string verb = argv[i++];
        update::UpdateCommand cmd;
        std::vector<std::string> with_value{"--poll-seconds"}, bare;
        if (verb == "status") { cmd.verb = update::UpdateCommand::Verb::Status; with_value.clear(); bare = {"--json"}; }
        else if (verb == "check") { cmd.verb = update::UpdateCommand::Verb::Check; bare = {"--now"}; }
        else if (verb == "install") {
            cmd.verb = update::UpdateCommand::Verb::Install;
            bare = {"--restart"};
            if (i >= argc || std::string(argv[i]).rfind("--", 0) == 0) return usage("update install needs the bundle's file");
            cmd.bundle = argv[i++];
        } else if (verb == "mark-good") { cmd.verb = update::UpdateCommand::Verb::MarkGood; with_value.clear(); }
        else if (verb == "stick") { cmd.verb = update::UpdateCommand::Verb::Stick; }
        else return usage("unknown update command '" + verb + "'");
        auto a = parse_args(argc, argv, i, with_value, bare, error);
        if (!a) return usage(error);
        cmd.json = a->has("--json");
        cmd.now = a->has("--now");
        cmd.restart = a->has("--restart");
        if (auto p = a->values.find("--poll-seconds"); p != a->values.end()) {
            char* end = nullptr;
            const long v = std::strtol(p->second.c_str(), &end, 10);
            if (p->second.empty() || *end != '\0' || v < 1 || v > 600) return usage("--poll-seconds takes 1 to 600");
            cmd.poll = std::chrono::seconds(v);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const int rc = update::run_update(g.loaded, g.state(), cmd);
        curl_global_cleanup();
        return rc;
    }
    return usage("unknown command '" + command + "'");
}
