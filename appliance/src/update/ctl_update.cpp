#include "appliance/update/ctl_update.hpp"

#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/local_daemon.hpp"
#include "appliance/net/http_client.hpp"
#include "appliance/update/download.hpp"
#include "appliance/update/rauc.hpp"
#include "appliance/update/release.hpp"
#include "appliance/update/state.hpp"
#include "appliance/update/stick.hpp"
#include "appliance/update/window.hpp"
#include "appliance/version.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sys/stat.h>
#include <thread>

namespace consult::update {

namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
}

std::string read_small(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string text(64 * 1024, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(std::size_t(in.gcount()));
    return text;
}

int minute_of_day_now() {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    return local.tm_hour * 60 + local.tm_min;
}

std::string in_words(std::chrono::minutes m) {
    const auto h = m.count() / 60, min = m.count() % 60;
    return (h ? std::to_string(h) + " h " : "") + std::to_string(min) + " min";
}

// How long consultd may take to say whether anybody is in a consultation, and how long a
// consultd that is not listening is given to come back (systemd restarts it after 2 s).
constexpr std::chrono::milliseconds kActivityTimeout{15000};
constexpr std::chrono::seconds kRestartingFor{30};

// Whether anyone is in a consultation, as consultd says.
struct Activity {
    bool busy = false;
    std::string detail;
};

class Updater {
public:
    Updater(const Config& config, fs::path state_dir, const UpdateCommand& command)
        : config_(config), state_dir_(std::move(state_dir)), command_(command),
          rauc_(), reboot_(env_or("CONSULT_REBOOT_COMMAND", "")),
          boot_id_(first_line(env_or("CONSULT_BOOT_ID_FILE", "/proc/sys/kernel/random/boot_id"))),
          loopback_http_(env_or("CONSULT_UPDATE_TEST_LOOPBACK_HTTP", "") == "1") {}

    int run() {
        auto loaded = load_state(state_file(state_dir_));
        if (!loaded) return error("the updater's state: " + loaded.error());
        state_ = *loaded;
        // Every run first settles an install that waited for a restart, so the outcome is
        // known (and reported) whichever command clinic IT or the timer runs next.
        if (auto settled = settle_pending(state_, running_, boot_id_, domain::now_iso())) {
            // (On stderr with --json, so that stdout stays one JSON document.)
            std::fprintf(command_.json ? stderr : stdout, "update: %s %s: %s\n", settled->version.c_str(),
                         result_name(settled->result), settled->reason.c_str());
            if (auto saved = save_state(state_file(state_dir_), state_); !saved) return error(saved.error());
        }
        switch (command_.verb) {
        case UpdateCommand::Verb::Status: return status();
        case UpdateCommand::Verb::Check: return check();
        case UpdateCommand::Verb::Install: return install_file();
        case UpdateCommand::Verb::MarkGood: return mark_good();
        case UpdateCommand::Verb::Stick: return stick();
        }
        return kUpdateError;
    }

private:
    // Each line reaches the journal as it happens (stdout is a pipe there, not a terminal):
    // clinic IT following `journalctl -fu consult-update` sees a restart that waits for a
    // consultation while it waits, not hours later.
    static void say(const std::string& line) {
        std::printf("update: %s\n", line.c_str());
        std::fflush(stdout);
    }
    static int error(const std::string& line) {
        std::fprintf(stderr, "consultctl update: %s\n", line.c_str());
        return kUpdateError;
    }

    // Stores the attempt for `update status` and the fleet report, prints it, returns `code`.
    int record(Result result, const std::string& version, const std::string& reason, int code) {
        state_.last = Attempt{domain::now_iso(), version, result, reason};
        say((version.empty() ? std::string() : version + " ") + result_name(result) + ": " + reason);
        if (auto saved = save_state(state_file(state_dir_), state_); !saved) {
            std::fprintf(stderr, "consultctl update: %s\n", saved.error().c_str());
            return code == kUpdateOk ? kUpdateError : code;
        }
        return code;
    }

    // Whether anybody is in a consultation, as consultd says. Only a consultd that is not
    // there (nothing listening on its port, still after a restart's time) lets an update go
    // ahead without its word; one that is slow to answer, as a small box's can be mid-call,
    // counts as busy: a restart mid-call is worse than a late one.
    Activity activity() const {
        const auto token = local_admin_token(state_dir_, "updater");
        net::HttpRequest req{.url = local_daemon_url(config_, "/api/system/activity"), .timeout = kActivityTimeout};
        if (token) req.headers.push_back({"Authorization", "Bearer " + *token});
        // Once consultd stayed away for a restart's time, this run's later questions are
        // asked once: it is gone, not restarting.
        const auto give_up = std::chrono::steady_clock::now() + (daemon_gone_ ? std::chrono::seconds(0) : kRestartingFor);
        auto r = net::HttpClient::send_blocking(req);
        while (r.refused && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(std::chrono::seconds(2));
            r = net::HttpClient::send_blocking(req);
        }
        daemon_gone_ = r.refused;
        if (r.refused) return {false, "consultd is not running, so nobody is in a consultation"};
        if (r.transport_failed()) return {true, "consultd did not say whether a consultation is running (" + r.error + ")"};
        if (r.status != 200) return {true, "consultd did not say whether a consultation is running (HTTP " + std::to_string(r.status) + ")"};
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (!j.is_object() || !j.contains("busy") || !j["busy"].is_boolean())
            return {true, "consultd's answer does not say whether a consultation is running"};
        if (!j["busy"].get<bool>()) return {false, "nobody is in a consultation"};
        return {true, j.value("call_running", false) ? "a call is running" : "a patient is waiting or a consultation is in progress"};
    }

    std::optional<Window> window() const {
        auto w = parse_window(config_.update.window);
        if (!w) return std::nullopt;
        return *w;
    }

    // ---------------------------------------------------------------- status

    int status() {
        const auto st = rauc_.status();
        const auto w = window();
        const int minute = minute_of_day_now();
        if (command_.json) {
            nlohmann::json j = to_json(state_);
            j["version"] = running_;
            j["marked_good_this_boot"] = !boot_id_.empty() && state_.good_boot_id == boot_id_;
            j["window"] = config_.update.window;
            j["window_open"] = w ? nlohmann::json(inside(*w, minute)) : nlohmann::json(nullptr);
            if (st) {
                const auto* booted = st->booted();
                j["booted_slot"] = booted ? nlohmann::json(booted->name) : nlohmann::json(nullptr);
                j["marked_good"] = booted ? nlohmann::json(booted->boot_status == "good") : nlohmann::json(nullptr);
                j["boot_primary"] = st->boot_primary;
                j["compatible"] = st->compatible;
                j["slots"] = nlohmann::json::array();
                for (const auto& s : st->slots)
                    j["slots"].push_back({{"name", s.name}, {"bootname", s.bootname}, {"state", s.state},
                                          {"boot_status", s.boot_status}, {"version", s.bundle_version}});
            } else {
                j["rauc_error"] = st.error();
            }
            std::printf("%s\n", j.dump(2).c_str());
            return kUpdateOk;
        }
        std::printf("running:         %s\n", running_.c_str());
        if (st) {
            for (const auto& s : st->slots)
                std::printf("slot %-12s%s%s, %s%s\n", (s.name + ":").c_str(), s.state.c_str(),
                            s.name == st->boot_primary ? " (next boot)" : "", s.boot_status.empty() ? "?" : s.boot_status.c_str(),
                            s.bundle_version.empty() ? "" : (", " + s.bundle_version).c_str());
        } else {
            std::printf("slots:           unknown (%s)\n", st.error().c_str());
        }
        if (state_.pending)
            std::printf("waiting:         %s installed, waits for the restart\n", state_.pending->version.c_str());
        if (state_.last)
            std::printf("last attempt:    %s %s %s: %s\n", state_.last->at.c_str(),
                        state_.last->version.empty() ? "-" : state_.last->version.c_str(), result_name(state_.last->result),
                        state_.last->reason.c_str());
        else
            std::printf("last attempt:    none\n");
        for (const auto& v : state_.rolled_back) std::printf("never again:     %s (failed its boot check here)\n", v.c_str());
        if (w)
            std::printf("window:          %s (%s)\n", config_.update.window.c_str(),
                        inside(*w, minute) ? "open now" : ("opens in " + in_words(until_open(*w, minute))).c_str());
        return kUpdateOk;
    }

    // ---------------------------------------------------------------- check

    int check() {
        if (config_.cloud.url.empty()) {
            say("no clinic cloud is configured ([cloud] url): nothing to ask");
            return kUpdateOk;
        }
        Credentials creds(state_dir_);
        auto key = creds.read("cloud-api-key");
        auto token = creds.read("cloud-device-token");
        if (!key || !token) return error("the cloud credentials: " + (!key ? key.error() : token.error()));
        if (!*key || !*token) {
            say("not paired with the clinic cloud yet (consultctl pair): nothing to ask");
            return kUpdateOk;
        }
        const cloud::Endpoint cloud{config_.cloud.url, **key, **token, std::chrono::milliseconds(15000)};
        const auto reply = parse_release_reply(net::HttpClient::send_blocking(release_request(cloud)), loopback_http_);
        if (const auto* refused = std::get_if<ReleaseRefused>(&reply)) {
            switch (refused->why) {
            case ReleaseRefused::Why::Unreachable:
                return record(Result::Failed, "", "the clinic cloud did not answer which release to run (" + refused->detail + ")", kUpdateError);
            case ReleaseRefused::Why::KeyRefused:
                return record(Result::Failed, "", "the clinic cloud refused this box's credentials (" + refused->detail + ")", kUpdateError);
            case ReleaseRefused::Why::BadAnswer:
                return record(Result::Refused, "", "the clinic cloud's release is unusable: " + refused->detail, kUpdateRefused);
            }
        }
        std::optional<Release> offered;
        if (const auto* r = std::get_if<Release>(&reply)) offered = *r;
        const auto decision = decide(running_, offered, state_.memory());
        if (std::holds_alternative<UpToDate>(decision)) {
            say("up to date: " + running_ + (offered ? " is this box's release" : " (the cloud offers no release)"));
            return kUpdateOk;
        }
        if (const auto* skip = std::get_if<SkipRolledBack>(&decision)) {
            say(skip->version + " failed its boot check on this box before; it is not tried again (staying on " + running_ + ")");
            return kUpdateOk;
        }
        if (const auto* pending = std::get_if<AlreadyPending>(&decision)) {
            // A restart held past the window's end waits for the next window, not for an idle
            // moment in the clinic's day.
            if (auto closed = window_closed())
                return record(Result::Postponed, pending->version, "installed; the restart waits: " + *closed, kUpdatePostponed);
            return restart_into(pending->version);
        }
        const Release release = std::get<Install>(decision).release;

        if (auto closed = window_closed()) return record(Result::Postponed, release.version, *closed, kUpdatePostponed);
        if (auto a = activity(); a.busy)
            return record(Result::Postponed, release.version, "not installed while " + a.detail, kUpdatePostponed);

        const fs::path dir = state_dir_ / "update" / "bundles";
        const fs::path dest = dir / ("consult-appliance-" + release.version + ".raucb");
        remove_other_bundles(dir, dest);
        say("downloading " + release.version + " (" + std::to_string(release.size_bytes) + " bytes)");
        DownloadRequest req;
        req.url = release.bundle_url;
        req.dest = dest;
        req.size_bytes = release.size_bytes;
        req.sha256 = release.sha256;
        req.allow_loopback_http = loopback_http_;
        const auto got = download_bundle(req);
        if (const auto* no = std::get_if<DownloadRefused>(&got)) {
            using Why = DownloadRefused::Why;
            const bool retry = no->why == Why::Network || no->why == Why::Disk;
            return record(retry ? Result::Failed : Result::Refused, release.version, "download: " + no->detail,
                          retry ? kUpdateError : kUpdateRefused);
        }
        const int rc = install(dest, release.version);
        std::error_code ec;
        if (rc == kUpdatePostponed) {
            // A consultation started during the download: the bundle is kept as a complete
            // .part, which the next run checks again instead of fetching it again.
            fs::rename(dest, part_path(dest), ec);
            if (ec) fs::remove(dest, ec);
            return rc;
        }
        fs::remove(dest, ec);   // installed or refused: the slot holds it now, or nothing should
        if (rc != kUpdateOk) return rc;
        return restart_into(release.version);
    }

    std::optional<std::string> window_closed() const {
        if (command_.now) return std::nullopt;
        const auto w = window();
        if (!w) return "the maintenance window '" + config_.update.window + "' is not a window";
        const int minute = minute_of_day_now();
        if (inside(*w, minute)) return std::nullopt;
        return "outside the maintenance window " + config_.update.window + " (it opens in " + in_words(until_open(*w, minute)) + ")";
    }

    static void remove_other_bundles(const fs::path& dir, const fs::path& keep) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        for (const auto& e : fs::directory_iterator(dir, ec)) {
            const auto p = e.path();
            if (p != keep && p != part_path(keep)) fs::remove(p, ec);
        }
    }

    // Checks the bundle as the box does and installs it into the other slot. `expected_version`:
    // the cloud's release must be what the bundle says it is.
    int install(const fs::path& bundle, const std::optional<std::string>& expected_version) {
        const std::string label = expected_version.value_or("");
        const auto st = rauc_.status();
        if (!st) return record(Result::Failed, label, "RAUC cannot say what this box is: " + st.error(), kUpdateError);
        const auto info = rauc_.info(bundle);
        if (!info) return record(Result::Refused, label, "the bundle's signature or contents were refused: " + info.error(), kUpdateRefused);
        if (info->compatible != st->compatible)
            return record(Result::Refused, label, "the bundle is made for '" + info->compatible + "', this box is '" + st->compatible + "'", kUpdateRefused);
        if (!is_release_version(info->version))
            return record(Result::Refused, label, "the bundle's version is not a release version", kUpdateRefused);
        if (expected_version && info->version != *expected_version)
            return record(Result::Refused, label, "the bundle holds " + info->version + ", not the release's " + *expected_version, kUpdateRefused);
        if (info->version == running_)
            return record(Result::Refused, info->version, "this box already runs " + info->version, kUpdateRefused);
        if (state_.rolled_back.contains(info->version) && !expected_version)
            say(info->version + " failed its boot check here before; installing it again as asked");
        if (auto a = activity(); a.busy)
            return record(Result::Postponed, info->version, "not installed while " + a.detail, kUpdatePostponed);
        say("installing " + info->version + " into the other slot");
        if (auto done = rauc_.install(bundle); !done)
            return record(Result::Refused, info->version, "RAUC did not install it: " + done.error(), kUpdateRefused);
        state_.rolled_back.erase(info->version);
        state_.pending = PendingInstall{info->version, running_, boot_id_};
        return record(Result::Installed, info->version, "installed into the other slot; it runs after the restart", kUpdateOk);
    }

    // Restarts into `v` as soon as nobody is in a consultation. The timer's run gives up when
    // the window closes (the next night's run restarts), clinic IT's after 12 hours.
    int restart_into(const std::string& v) {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::hours(12);
        bool told = false;
        for (;;) {
            const Activity a = activity();
            if (!a.busy) break;
            if (!told) say("the restart into " + v + " waits: " + a.detail);
            told = true;
            if (window_closed() || std::chrono::steady_clock::now() > give_up)
                return record(Result::Postponed, v, "installed; the restart waits because " + a.detail, kUpdatePostponed);
            std::this_thread::sleep_for(command_.poll);
        }
        say("restarting into " + v);
        return reboot();
    }

    int reboot() const {
        std::vector<std::string> args = reboot_.empty() ? std::vector<std::string>{"systemctl", "reboot"}
                                                        : std::vector<std::string>{reboot_};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        gint wait_status = 0;
        GError* err = nullptr;
        if (!g_spawn_sync(nullptr, argv.data(), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, nullptr, nullptr,
                          &wait_status, &err)) {
            const std::string why = err ? err->message : "unknown error";
            g_clear_error(&err);
            return error("cannot restart: " + why);
        }
        if (!g_spawn_check_wait_status(wait_status, nullptr)) return error("the restart command failed");
        return kUpdateOk;
    }

    // ---------------------------------------------------------------- stick

    // The kiosk's request (update/stick.hpp), as root: look for bundles on a stick, or install
    // one. Progress and the outcome go to the result file consultd reads.
    int stick() {
        // Asked for by a person at the box: the restart waits for the consultation, not the window.
        command_.now = true;
        const fs::path dir = stick_dir(state_dir_);
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
            say("no USB-stick request");
            return kUpdateOk;
        }
        auto text = read_stick_file(dir / "request");
        if (!text) return error("the USB-stick request is refused: " + text.error());
        if (!*text) {
            say("no USB-stick request");
            return kUpdateOk;
        }
        StickResult res;
        auto put = [&](StickResult::State state, const std::string& message) {
            res.state = state;
            res.message = message;
            res.at = domain::now_iso();
            if (auto saved = write_whole_file(dir / "result", to_json(res).dump() + "\n", 0644); !saved)
                std::fprintf(stderr, "consultctl update: %s\n", saved.error().c_str());
        };
        auto request = stick_request_from_json(nlohmann::json::parse(**text, nullptr, false));
        if (!request) {
            put(StickResult::State::Refused, "The request was not understood (" + request.error() + ").");
            return error("the USB-stick request is refused: " + request.error());
        }
        res.id = request->id;
        // Answered already (the path unit may start this twice for one request).
        if (auto before = read_stick_file(dir / "result"); before && *before) {
            auto prev = stick_result_from_json(nlohmann::json::parse(**before, nullptr, false));
            if (prev && prev->id == request->id) {
                say("the USB-stick request " + request->id + " was answered already");
                return kUpdateOk;
            }
        }
        const bool look = request->action == StickRequest::Action::Look;
        put(StickResult::State::Working, look ? "Looking for a USB stick with an update." : "Looking for " + request->file + " on the USB stick.");
        StickResult::State why{};
        MountedStick stick = find_stick(look ? "" : request->file, why);
        if (!stick) {
            if (why == StickResult::State::NoStick)
                put(why, "No USB stick was found. Put the stick with the update into a USB port of the box and try again.");
            else if (look)
                put(why, "The USB stick holds no update: the update is a file ending in .raucb at the stick's top level.");
            else
                put(StickResult::State::NoBundle, request->file + " is not on the USB stick any more. Look for the stick again.");
            say(res.message);
            return kUpdateOk;
        }
        return look ? stick_look(stick, res, put) : stick_install(stick, *request, res, put);
    }

    template <typename Put>
    int stick_look(MountedStick& stick, StickResult& res, Put& put) {
        res.bundles = bundles_on_stick(stick.top());
        const auto st = rauc_.status();
        for (auto& b : res.bundles) {
            put(StickResult::State::Working, "Checking " + b.name + ".");
            const auto info = rauc_.info(stick.top() / b.name);
            if (!info) {
                b.problem = "its signature or contents are refused: " + info.error();
            } else {
                if (is_release_version(info->version)) b.version = info->version;
                if (!st) b.problem = "RAUC cannot say what this box is: " + st.error();
                else if (info->compatible != st->compatible) b.problem = "it is made for '" + info->compatible + "', this box is '" + st->compatible + "'";
                else if (b.version.empty()) b.problem = "its version is not a release version";
                else if (b.version == running_) b.problem = "this box already runs " + b.version;
            }
        }
        stick.release();
        const auto usable = std::count_if(res.bundles.begin(), res.bundles.end(), [](const StickBundle& b) { return b.problem.empty(); });
        put(StickResult::State::Found, std::to_string(res.bundles.size()) + (res.bundles.size() == 1 ? " update" : " updates") +
                                           " on the USB stick, " + std::to_string(usable) + " that this box can install.");
        say(res.message);
        return kUpdateOk;
    }

    template <typename Put>
    int stick_install(MountedStick& stick, const StickRequest& request, StickResult& res, Put& put) {
        put(StickResult::State::Working, "Checking and installing " + request.file + ". This takes a few minutes; keep the stick in.");
        const int rc = install(stick.top() / request.file, std::nullopt);
        stick.release();
        const Attempt last = state_.last.value_or(Attempt{});
        res.version = is_release_version(last.version) ? last.version : "";
        const std::string& reason = last.reason;
        if (rc == kUpdatePostponed) {
            put(StickResult::State::Postponed, "Not installed now: " + reason + ". Try again after the consultation.");
            return rc;
        }
        if (rc != kUpdateOk) {
            put(rc == kUpdateRefused ? StickResult::State::Refused : StickResult::State::Failed,
                "Not installed: " + reason + ". The box keeps running " + running_ + ".");
            return rc;
        }
        const Activity a = activity();
        put(StickResult::State::Installed, "Installed " + res.version + ". You may take the stick out. " +
                                               (a.busy ? "The box restarts into it as soon as nobody is in a consultation."
                                                       : "The box restarts into it now; the kiosk is back in a few minutes."));
        return restart_into(state_.pending ? state_.pending->version : res.version);
    }

    // ---------------------------------------------------------------- install FILE, mark-good

    int install_file() {
        std::error_code ec;
        if (!fs::is_regular_file(command_.bundle, ec)) {
            std::fprintf(stderr, "consultctl update: %s is not a file that can be read\n", command_.bundle.c_str());
            return 66;
        }
        const int rc = install(command_.bundle, std::nullopt);
        if (rc != kUpdateOk) return rc;
        if (!command_.restart) {
            say("restart the box to run it (consultctl update install --restart restarts once nobody is in a consultation)");
            return kUpdateOk;
        }
        return restart_into(state_.pending->version);
    }

    int mark_good() {
        if (auto done = rauc_.mark_good(); !done) return error("rauc mark-good: " + done.error());
        state_.good_boot_id = boot_id_;   // what consultd reports as "marked good" in this boot
        if (auto saved = save_state(state_file(state_dir_), state_); !saved) return error(saved.error());
        say("the booted slot is marked good");
        return kUpdateOk;
    }

    const Config& config_;
    fs::path state_dir_;
    UpdateCommand command_;
    Rauc rauc_;
    std::string reboot_;
    std::string boot_id_;
    bool loopback_http_;
    UpdateState state_;
    mutable bool daemon_gone_ = false;  // consultd stayed away for kRestartingFor in this run
    // The image's version (os-release; CONSULT_OS_RELEASE in tests), which bundles carry.
    const std::string running_ = image_version(read_small(env_or("CONSULT_OS_RELEASE", "/usr/lib/os-release")), consult::version());
};

}  // namespace

int run_update(const Config& config, const std::filesystem::path& state_dir, const UpdateCommand& command) {
    return Updater(config, state_dir, command).run();
}

}  // namespace consult::update
