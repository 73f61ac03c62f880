// consultd: the appliance daemon.
#include "appliance/daemon.hpp"
#include "appliance/log.hpp"
#include "appliance/version.hpp"

#include <curl/curl.h>
#include <gst/gst.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char* kUsage =
    "Usage: consultd [OPTIONS]\n"
    "The consult room appliance: REST API, signalling, kiosk and media.\n\n"
    "  --config FILE      configuration file (default /etc/consult/consultd.conf,\n"
    "                     plus FILE.d/*.conf drop-ins)\n"
    "  --state-dir DIR    where the database and local credentials live\n"
    "                     (default $STATE_DIRECTORY, /var/lib/consult as root)\n"
    "  --http-port N      override [http] port\n"
    "  --set SEC.KEY=VAL  override any configuration key (repeatable)\n"
    "  --demo             add a demo clinic, doctors, timings and appointments\n"
    "  --version          print the version and exit\n"
    "  --help             this text\n";

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "consultd: %s\n%s", msg.c_str(), kUsage);
    return 64;
}

}  // namespace

int main(int argc, char** argv) {
    consult::DaemonOptions opts;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (a == "--help" || a == "-h") { std::fputs(kUsage, stdout); return 0; }
        if (a == "--version") { std::printf("consultd %s\n", consult::version()); return 0; }
        if (a == "--demo") { opts.demo = true; continue; }
        const char* v = nullptr;
        if (a == "--config") {
            if (!(v = value())) return usage_error("--config needs a file");
            opts.config.main = v;
            opts.config.main_required = true;
        } else if (a == "--state-dir") {
            if (!(v = value())) return usage_error("--state-dir needs a directory");
            opts.state_dir = v;
        } else if (a == "--http-port") {
            if (!(v = value())) return usage_error("--http-port needs a number");
            char* end = nullptr;
            long port = std::strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || port < 1 || port > 65535)
                return usage_error(std::string("--http-port: '") + v + "' is not a port (1-65535)");
            opts.http_port = int(port);
        } else if (a == "--set") {
            if (!(v = value())) return usage_error("--set needs section.key=value");
            opts.config.overrides.push_back(v);
        } else {
            return usage_error("unknown option '" + a + "'");
        }
    }

    // Libraries start here, in this order, once.
    gst_init(nullptr, nullptr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    consult::log::init("info");

    int rc = 0;
    {
        consult::StopSignal stop;
        auto daemon = consult::Daemon::start(opts);
        if (!daemon) {
            consult::log::error("cannot start: " + daemon.error().message);
            rc = daemon.error().exit_code;
        } else {
            rc = (*daemon)->run(stop);
        }
    }
    curl_global_cleanup();
    gst_deinit();
    return rc;
}
