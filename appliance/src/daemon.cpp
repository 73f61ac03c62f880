#include "appliance/daemon.hpp"
#include "appliance/provision.hpp"


#include "appliance/cloud/cloud_metrics.hpp"
#include "appliance/credentials.hpp"
#include "appliance/twilio/signature.hpp"
#include "appliance/http/cloud_routes.hpp"
#include "appliance/http/routes.hpp"
#include "appliance/hw_report.hpp"
#include "appliance/log.hpp"
#include "appliance/notify/messaging.hpp"
#include "appliance/recording/recordings.hpp"
#include "appliance/session_sweeper.hpp"
#include "appliance/store/demo_data.hpp"
#include "appliance/http/kiosk_routes.hpp"
#include "appliance/http/report_routes.hpp"
#include "appliance/store/downgrade.hpp"
#include "appliance/store/migrations.hpp"
#include "appliance/wiring.hpp"
#include "hwconfig/main_loop.hpp"
#include "pipelines/call.hpp"

#include <glib-unix.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace consult {

namespace fs = std::filesystem;

fs::path default_state_dir() {
    if (const char* s = std::getenv("STATE_DIRECTORY"); s && *s) {
        std::string first(s);
        return first.substr(0, first.find(':'));  // systemd lists several with ':'
    }
    if (geteuid() == 0) return "/var/lib/consult";
    if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return fs::path(x) / "consult";
    if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".local/state/consult";
    return "/var/lib/consult";
}

namespace {

// Status callbacks to the clinic's backend: on only with a URL and the credential that
// signs them; a URL without the credential is said in the log and sends nothing.
callbacks::CallbackSettings callback_settings(const Config& config, const fs::path& state_dir) {
    callbacks::CallbackSettings s;
    if (config.callbacks.room_status_url.empty() && config.callbacks.recording_status_url.empty()) return s;
    auto token = Credentials(state_dir).read("callback-auth-token");
    if (!token || !*token) {
        log::error("status callbacks off: " + (token ? std::string("the credential callback-auth-token is not set")
                                                     : "the credential callback-auth-token: " + token.error()));
        return s;
    }
    s.room_status_url = config.callbacks.room_status_url;
    s.recording_status_url = config.callbacks.recording_status_url;
    s.auth_token = **token;
    s.first_retry = std::chrono::seconds(config.callbacks.retry_seconds);
    s.public_base_url = config.public_base_url();
    s.account_sid = !config.callbacks.account_sid.empty() ? config.callbacks.account_sid : config.twilio.account_sid;
    // Without a Twilio account: one of this box's, the same on every start.
    if (s.account_sid.empty())
        s.account_sid = "AC" + twilio::body_sha256_hex("account/" + config.cloud.clinic_id + "/" + s.public_base_url).substr(0, 32);
    log::info("status callbacks on: room " + (s.room_status_url.empty() ? "-" : s.room_status_url) + ", recording " +
              (s.recording_status_url.empty() ? "-" : s.recording_status_url));
    return s;
}

// The composer that turns a call's recorded parts into one file: installed beside the
// daemon's package files, or (in a build tree) in pipelines/.
fs::path composer_path() {
    if (const char* env = std::getenv("CONSULT_COMPOSE"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) {
        candidates.push_back(exe.parent_path() / "consult-compose");
        candidates.push_back(exe.parent_path().parent_path() / "pipelines" / "consult-compose");
    }
    candidates.push_back("/usr/lib/consult/consult-compose");
    candidates.push_back("/usr/libexec/consult/consult-compose");
    for (const auto& c : candidates)
        if (fs::exists(c, ec) && ::access(c.c_str(), X_OK) == 0) return c;
    log::warning("consult-compose is not installed: recordings are kept as parts and not composed");
    return {};
}

expected<store::Database, StartError> open_store(const fs::path& state_dir) {
    try {
        // Back on an older version after a newer one migrated the store (a rolled-back
        // update): start from the copy taken before that migration, re-apply the newer rows.
        if (auto d = store::downgrade_if_newer(state_dir / "consult.db", store::snapshot_dir(state_dir)))
            log::warning("the store came back from a newer version: " + d->summary(),
                         {{"SCHEMA_VERSION", std::to_string(d->to_schema)},
                          {"NEWER_SCHEMA_VERSION", std::to_string(d->from_schema)}});
        auto db = store::Database::open(state_dir / "consult.db");
        if (auto check = db.quick_check(); check != "ok")
            return unexpected(StartError{70, "database " + (state_dir / "consult.db").string() +
                                                      " failed its integrity check: " + check +
                                                      " (restore it from a backup or move it aside)"});
        // A copy before the first start of a version that migrates, for the way back.
        if (!store::pending_migrations(db).empty()) {
            try {
                if (auto copy = store::snapshot_before_migrating(db, store::snapshot_dir(state_dir)))
                    log::info("kept a copy of the store before migrating it: " + copy->string());
            } catch (const store::StoreError& e) {
                log::warning(std::string("no copy of the store before migrating it (going back to this version "
                                         "would start from an empty store and re-apply the rows): ") + e.what());
            }
        }
        if (int n = store::migrate(db); n > 0)
            log::info("applied " + std::to_string(n) + " database migration(s)",
                      {{"SCHEMA_VERSION", std::to_string(db.user_version())}});
        provision::import_admin_pin(db, state_dir);
        return db;
    } catch (const store::StoreError& e) {
        return unexpected(StartError{70, "database " + (state_dir / "consult.db").string() + ": " + e.what()});
    }
}

// A call's media settings: what the probe found, the configured size, these ICE servers.
std::optional<media::CallSettings> media_settings(ApplianceContext& ctx, const twilio::IceServerList& ice) {
    if (!ctx.probe || !ctx.probe->encoder) return std::nullopt;
    media::CallSettings cs;
    cs.encoder = ctx.probe->encoder;
    // The best working encoder of each other codec: offered beside the main one, run
    // only while a screen has chosen it (Firefox without OpenH264 takes VP8).
    for (const auto& status : ctx.probe->encoders) {
        if (!status.usable || !status.row || status.row->codec == cs.encoder->codec) continue;
        const bool have = std::any_of(cs.fallbacks.begin(), cs.fallbacks.end(),
                                      [&](const hw::EncoderRow* r) { return r->codec == status.row->codec; });
        if (!have) cs.fallbacks.push_back(status.row);
    }
    cs.camera = ctx.probe->camera;
    cs.microphone = ctx.probe->microphone;
    cs.speaker = ctx.probe->speaker;
    cs.content = ctx.probe->content;
    cs.width = ctx.config.media.max_width;
    cs.height = ctx.config.media.max_height;
    cs.fps = ctx.config.media.max_fps;
    cs.dot_dir = ctx.state_dir;
    for (const auto& server : ice.servers) {
        const std::string uri = twilio::webrtcbin_uri(server);
        if (uri.starts_with("stun://") && cs.stun_server.empty()) cs.stun_server = uri;
        else if (uri.starts_with("turn")) cs.turn_servers.push_back(uri);
    }
    return cs;
}

// The main loop's SQLite connection waits at most this long for another's lock; a busy
// store then answers "busy" (503, store_busy) or queues the write (WriteQueue).
constexpr std::chrono::milliseconds kMainLoopBusyTimeout{200};

// The connection cap stays below the file descriptor limit less what the rest of the
// daemon needs, so a flood of connections can never starve SQLite, media or libsoup.
http::ServerLimits server_limits(const Config::Http& c) {
    const unsigned long files = http::raise_file_limit();
    http::ServerLimits l;
    l.max_body_bytes = c.max_body_bytes;
    const unsigned long room = files > unsigned(c.reserved_fds) + 16 ? files - unsigned(c.reserved_fds) : 16;
    l.connections.max_total = std::min<unsigned long>(unsigned(c.max_connections), room);
    l.connections.max_per_address = std::size_t(c.max_connections_per_address);
    l.connections.first_request = l.connections.headers = std::chrono::seconds(c.header_timeout_seconds);
    l.connections.idle = std::chrono::seconds(c.idle_timeout_seconds);
    l.connections.body = std::chrono::seconds(c.body_timeout_seconds);
    if (l.connections.max_total < std::size_t(c.max_connections))
        log::info("HTTP connections capped at " + std::to_string(l.connections.max_total) + " (file limit " +
                  std::to_string(files) + ")");
    return l;
}

}  // namespace

expected<std::unique_ptr<Daemon>, StartError> Daemon::start(const DaemonOptions& options) {
    const fs::path state_dir = options.state_dir.value_or(default_state_dir());
    ConfigSources sources = options.config;
    // What the provisioning file set (provision.hpp), then the kiosk's device choice (device_routes.cpp).
    sources.settings_files = {state_dir / "provisioned.conf", state_dir / "devices.conf"};
    auto loaded = load_config(sources);
    if (!loaded) return unexpected(StartError{78, "configuration: " + loaded.error().describe()});
    Config config = loaded->config;
    if (options.http_port) config.http.port = *options.http_port;
    log::init(config.log.level);
    for (const auto& w : loaded->warnings) log::warning(w);

    std::error_code ec;
    // Only a directory we create is set to 0700; an existing one keeps its owner's choice.
    const bool created = fs::create_directories(state_dir, ec);
    if (ec || (created && ::chmod(state_dir.c_str(), 0700) != 0))
        return unexpected(StartError{73, "state directory " + state_dir.string() + ": " +
                                                  (ec ? ec.message() : std::string("cannot set mode 0700"))});

    auto key = Credentials(state_dir).read_or_create("token-signing-key", 32);
    if (!key) return unexpected(StartError{78, key.error()});

    auto db = open_store(state_dir);
    if (!db) return unexpected(db.error());

    std::unique_ptr<Daemon> d(new Daemon());
    d->ctx_.reset(new ApplianceContext{config, state_dir, std::move(*db), Metrics(),
                                       tokens::TokenService(*key, config.sessions.token_ttl_seconds),
                                       std::nullopt, options.demo});
    for (const auto& t : store::load_revoked_tokens(d->ctx_->db, tokens::unix_now()))
        d->ctx_->tokens.revoke(t.jti, t.expires_at, tokens::unix_now());
    if (options.demo) {
        try {
            int rows = store::seed_demo(d->ctx_->db, std::chrono::system_clock::now());
            log::info("demo data ready (" + std::to_string(rows) + " new rows)");
        } catch (const store::StoreError& e) {
            return unexpected(StartError{70, std::string("demo data: ") + e.what()});
        }
    }

    ApplianceContext& ctx = *d->ctx_;
    ctx.db.set_busy_timeout(kMainLoopBusyTimeout);
    d->writes_ = std::make_unique<store::WriteQueue>(ctx.db, [](std::chrono::milliseconds wait, std::function<void()> f) {
        later(wait, std::move(f), "store retry");
    });
    d->events_.subscribe([&ctx](const room::Event& e) {
        ctx.metrics.count("consult_room_events_total", {{"event", room::event_name(e.kind)}});
        log::debug(std::string("room event ") + room::event_name(e.kind),
                   {{"SESSION_ID", e.session_id}, {"ROLE", e.role}, {"TRACK", e.track}});
    });
    d->callbacks_ = std::make_unique<callbacks::StatusCallbacks>(ctx.db, callback_settings(config, state_dir));
    d->events_.subscribe([cb = d->callbacks_.get()](const room::Event& e) { cb->on_event(e); });
    ctx.metric_sources.push_back([cb = d->callbacks_.get()] { return cb->metrics_text(); });
    d->audits_ = std::make_unique<store::AuditBatch>(ctx.db, [](std::chrono::milliseconds wait, std::function<void()> f) {
        later(wait, std::move(f), "audit commit");
    });
    ctx.audits = d->audits_.get();
    ctx.messaging = notify::Messaging::create(ctx.config, ctx.state_dir, ctx.db, ctx.tokens, ctx.metrics);
    d->cloud_ = std::make_unique<cloud::CloudSync>(
        ctx.db, state_dir, cloud::SyncSettings{config.cloud.url, config.cloud.clinic_id, config.cloud.poll_seconds});
    // The fleet report: failures of the last day that only metrics counters record, by the hour.
    d->failures_ = std::make_shared<fleet::FailureWindow>(std::time(nullptr));
    fleet::count_failures_into(d->failures_);
    d->reporter_ = std::make_unique<fleet::StatusReporter>(fleet::ReporterDeps{
        ctx.db, *d->cloud_, ctx.probe, state_dir, fleet::BoxPaths::from_environment(), *d->failures_});
    d->claimer_ = std::make_unique<cloud::CodeClaimer>(
        cloud::ClaimerDeps{ctx.db, *d->cloud_, state_dir, config.cloud.url, config.cloud.anon_key});
    const std::string storage_url = !config.cloud.storage_url.empty() ? config.cloud.storage_url
                                    : config.cloud.url.empty()        ? std::string()
                                                                      : cloud::storage::storage_url(config.cloud.url);
    d->uploads_ = std::make_unique<cloud::RecordingUploader>(ctx.db, cloud::UploadSettings{
        storage_url, config.cloud.storage_bucket, state_dir, state_dir / "recordings",
        std::chrono::seconds(config.cloud.poll_seconds), cloud::storage::kChunkBytes, [&ctx] { return ctx.rooms.running(); }});
    // recording_url (set, or cleared with the cloud copy) goes up now.
    d->uploads_->on_rows_queued([cloud = d->cloud_.get()] { cloud->sync_now(); });
    // The clinic's backend hears of an upload given up (recording-failed, RecordingUpload).
    d->uploads_->on_given_up([events = &d->events_](const std::string& session, const std::string& sid,
                                                    const std::string& why) {
        room::Event e{room::EventKind::RecordingFailed, session, "doctor", "", "", "", why, 0};
        e.recording_sid = sid;
        e.failed_operation = "RecordingUpload";
        events->publish(e);
    });

    // MP4 (H.264 + AAC, with a full index): every browser's player seeks in it; the
    // kiosk's Chromium would not seek in the WebM the composer otherwise writes.
    ctx.recordings = std::make_shared<recording::Recordings>(recording::RecordingsDeps{
        ctx.db, ctx.config.recording, state_dir / "recordings", ctx.metrics,
        [&ctx] { return ctx.rooms.running(); }, composer_path(), {"--container", "mp4"}, ".mp4",
        [up = d->uploads_.get()](const store::RecordingRow& r) {
            if (r.state == "ready" || r.state == "deleted") up->kick();   // to upload, or to delete its cloud copy
        }});

    // Each group of routes gets what it uses (wiring.hpp).
    http::Router router;
    http::add_system_routes(router, wiring::system_routes(ctx));
    http::add_activity_route(router, wiring::system_routes(ctx));
    http::add_setup_routes(router, wiring::setup_routes(ctx, *d->cloud_));
    http::add_static_routes(router);
    http::add_session_routes(router, wiring::session_routes(ctx));
    http::add_short_link_routes(router, wiring::session_routes(ctx));
    http::add_summary_routes(router, wiring::session_routes(ctx));
    http::add_schedule_routes(router, wiring::schedule_routes(ctx));
    http::add_recording_routes(router, wiring::recording_routes(ctx));
    http::add_kiosk_routes(router, wiring::kiosk_routes(ctx));
    http::add_report_routes(router, wiring::access(ctx));
    http::add_device_routes(router, wiring::device_routes(ctx));
    http::add_recovery_key_routes(router, wiring::device_routes(ctx));
    http::add_update_stick_routes(router, wiring::device_routes(ctx));
    http::add_twilio_routes(router, wiring::twilio_routes(ctx));
    http::add_twilio_webhook_routes(router, wiring::twilio_routes(ctx));
    http::add_cloud_routes(router, wiring::access(ctx), *d->cloud_);
    http::add_fleet_status_route(router, wiring::access(ctx), [r = d->reporter_.get()] { return r->current(); });
    d->server_ = std::make_unique<http::Server>(std::move(router), ctx.metrics, server_limits(config.http));
    ctx.metric_sources.push_back([server = d->server_.get()] { return server->connections().metrics_text(); });
    if (auto listening = d->server_->listen(config.http.bind, config.http.port); !listening)
        return unexpected(StartError{70, listening.error()});
    if (config.http.tls_certificate.empty() != config.http.tls_key.empty())
        return unexpected(StartError{78, "[http] tls_certificate and tls_key go together"});
    if (!config.http.tls_certificate.empty()) {
        auto tls = d->server_->listen_tls(config.http.bind, config.http.tls_port, config.http.tls_certificate,
                                          config.http.tls_key);
        if (!tls) return unexpected(StartError{78, tls.error()});
        log::info("HTTPS on port " + std::to_string(config.http.tls_port));
    }
    d->hub_ = std::make_unique<signalling::Hub>(hub_deps(*d));
    d->hub_->attach(d->server_->soup());
    LiveRooms& rooms = ctx.rooms;
    rooms.call_running = [hub = d->hub_.get()] { return hub->calls() > 0; };
    rooms.occupied_rooms = [hub = d->hub_.get()] { return hub->occupied_rooms(); };
    rooms.admit_waiting = [hub = d->hub_.get()](const std::string& id) { return hub->admit_waiting(id); };
    rooms.signed_out = [hub = d->hub_.get()](const tokens::Claims& c) { hub->signed_out(c); };
    rooms.session_listeners.push_back([hub = d->hub_.get()](const store::SessionRow& row) { hub->session_changed(row); });
    ctx.metric_sources.push_back([hub = d->hub_.get()] { return hub->metrics_text(); });
    rooms.record = [hub = d->hub_.get()](const std::string& id, bool on, const std::string& actor, const std::string& address) {
        return hub->record(id, on, actor, address);
    };
    ctx.metric_sources.push_back([r = ctx.recordings.get()] { return r->metrics_text(); });
    // Recordings a stop cut short are closed and composed; old ones go by retention (hourly check).
    try {
        ctx.recordings->recover();
    } catch (const std::exception& e) {
        log::error(std::string("could not take up the recordings a stop left: ") + e.what());
    }
    auto retention = [](gpointer p) -> gboolean {
        try {
            static_cast<recording::Recordings*>(p)->apply_retention(std::time(nullptr));
        } catch (const std::exception& e) {
            log::error(std::string("recording retention failed: ") + e.what());
        }
        return G_SOURCE_CONTINUE;
    };
    retention(ctx.recordings.get());
    d->retention_timer_ = g_timeout_add_seconds(3600, retention, ctx.recordings.get());

    d->loop_.reset(g_main_loop_new(nullptr, FALSE));
    d->loop_monitor_ = std::make_unique<LoopMonitor>();
    ctx.metric_sources.push_back([m = d->loop_monitor_.get()] { return m->metrics_text(); });
    // The clock ends overdue calls and records no-shows, now and every 30 s.
    auto sweep = [](gpointer p) -> gboolean {
        auto* parts = static_cast<ApplianceContext*>(p);
        try {
            sweep_sessions(parts->db, parts->config.sessions, parts->rooms, std::time(nullptr));
        } catch (const std::exception& e) {
            log::error(std::string("session sweep failed: ") + e.what());
        }
        return G_SOURCE_CONTINUE;
    };
    sweep(&ctx);
    d->sweep_timer_ = g_timeout_add_seconds(30, sweep, &ctx);
    ctx.messaging->start_clock(unsigned(config.notify.clock_seconds));   // reminders, notes after calls, TURN credentials
    // Cloud sync: off (and saying why in /api/system/cloud) without url, clinic or credentials.
    if (auto off = d->cloud_->status()["off_reason"]; off.is_string()) log::info("cloud sync off: " + off.get<std::string>());
    d->cloud_->start();
    ctx.metric_sources.push_back([cloud = d->cloud_.get()] { return cloud::cloud_metrics(cloud->status()); });
    d->uploads_->start();
    d->callbacks_->start();
    ctx.metric_sources.push_back([up = d->uploads_.get()] { return up->metrics_text(); });
    // The probe test-encodes frames; it runs beside the loop so the API answers meanwhile.
    d->probe_thread_ = std::thread([raw = d.get(), alive = std::weak_ptr<void>(d->alive_), settings = probe_settings(config.media)] {
        auto result = std::make_shared<hw::ProbeResult>(hw::probe(settings));
        media::load_call_plugins();   // here, not on the main loop at the first admit
        consult::post(nullptr, alive, [raw, result] { raw->on_probe_done(std::move(*result)); }, "hardware probe");
    });
    return d;
}

Daemon::~Daemon() {
    fleet::count_failures_into(nullptr);
    if (probe_thread_.joinable()) probe_thread_.join();
    if (sweep_timer_) g_source_remove(sweep_timer_);
    if (retention_timer_) g_source_remove(retention_timer_);
}

std::string Daemon::status_line() const {
    std::string s = "serving on " + ctx_->config.http.bind + ":" + std::to_string(ctx_->config.http.port);
    if (ctx_->probe) {
        s += "; camera: " + ctx_->probe->camera.name;
        s += "; encoder: " + (ctx_->probe->encoder ? std::string(ctx_->probe->encoder->factory) : std::string("none"));
    }
    return s;
}

void Daemon::on_probe_done(hw::ProbeResult result) {
    if (probe_thread_.joinable()) probe_thread_.join();
    ctx_->probe = std::move(result);
    const auto& p = *ctx_->probe;
    for (const auto& m : p.missing)
        log::warning("GStreamer element " + m.element + " is missing; install the Debian package " + m.package);
    if (p.camera.test_source) log::warning("no camera in use (" + p.camera.reason + "); showing a test pattern");
    if (p.microphone.test_source) log::warning("no microphone in use (" + p.microphone.reason + "); using a test tone");
    if (!p.encoder) log::error("no video encoder works on this box; calls cannot send video");
    else log::info("video encoder: " + std::string(p.encoder->factory), {{"PROBE_MS", std::to_string(int(p.elapsed_ms))}});

    // Ready: store open and migrated, HTTP listening, hardware probed.
    notifier_.ready(status_line());
    notifier_.start_watchdog([server = server_.get()] { return server->connections().accepting(); });
    claimer_->start();    // a pairing code from the provisioning file, when the box is not paired
    reporter_->start();   // the fleet report names the encoder and camera the probe found
    const std::string host = ctx_->config.http.bind == "0.0.0.0" ? "127.0.0.1" : ctx_->config.http.bind;
    log::info("ready; kiosk at http://" + host + ":" + std::to_string(ctx_->config.http.port) + "/kiosk");
}

signalling::HubDeps Daemon::hub_deps(Daemon& d) {
    ApplianceContext& ctx = *d.ctx_;
    signalling::HubDeps deps{ctx.db, *d.writes_, ctx.tokens, ctx.metrics, d.events_, ctx.config, {}, {}, {}, {}, {}, {}};
    deps.call_settings = [&ctx](const twilio::IceServerList& ice) { return media_settings(ctx, ice); };
    deps.ice_servers = [&ctx] {
        if (ctx.messaging) return ctx.messaging->ice_servers().current(std::time(nullptr));
        twilio::IceServerList list{{}, "configured", 0};
        for (const auto& url : ctx.config.media.stun_servers) list.servers.push_back({url, "", ""});
        return list;
    };
    deps.content_available = [&ctx] { return ctx.probe && ctx.probe->content.name != "none"; };
    deps.doctor_ready = [&ctx](const std::string& session) {
        if (ctx.messaging) ctx.messaging->notifier().doctor_ready(session);
    };
    deps.session_changed = [&ctx](const store::SessionRow& row) { ctx.rooms.session_changed(row); };
    deps.later = [](std::chrono::milliseconds wait, std::function<void()> f) { later(wait, std::move(f), "signalling timer"); };
    deps.recordings = ctx.recordings.get();
    return deps;
}

StopSignal::StopSignal() {
    sources_[0] = g_unix_signal_add(SIGTERM, &StopSignal::handle, this);
    sources_[1] = g_unix_signal_add(SIGINT, &StopSignal::handle, this);
}

StopSignal::~StopSignal() {
    for (guint s : sources_) g_source_remove(s);
}

gboolean StopSignal::handle(gpointer p) {
    auto* self = static_cast<StopSignal*>(p);
    self->requested_ = true;
    if (self->loop_) g_main_loop_quit(self->loop_);
    return G_SOURCE_CONTINUE;
}

int Daemon::run(StopSignal& stop) {
    stop.on_stop(loop_.get());
    // A signal that arrived during start-up is waiting in the default context.
    while (g_main_context_iteration(nullptr, FALSE)) {}
    if (!stop.requested()) g_main_loop_run(loop_.get());
    notifier_.stopping("stopping");
    log::info("stopping on signal");
    stop.on_stop(nullptr);
    // Calls end cleanly: participants are recorded as left and every screen is told.
    hub_->shutdown();
    if (!media::wait_for_retired(3000)) log::warning("a call's media was still stopping at exit");
    const gint64 flush_until = g_get_monotonic_time() + 300'000;
    while (g_get_monotonic_time() < flush_until && g_main_context_iteration(nullptr, FALSE)) {}
    soup_server_disconnect(server_->soup());
    log::info("stopped");
    return 0;
}

}  // namespace consult
