// consultd: brings the parts up in order (config → store → HTTP → hardware probe),
// tells systemd when it is really ready, and stops cleanly on SIGTERM/SIGINT.
#pragma once

#include "appliance/callbacks/status_callbacks.hpp"
#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/cloud/code_claimer.hpp"
#include "appliance/cloud/recording_uploader.hpp"
#include "appliance/config.hpp"
#include "appliance/context.hpp"
#include "appliance/fleet/status_reporter.hpp"
#include "appliance/room/room_events.hpp"
#include "appliance/store/audit_batch.hpp"
#include "appliance/store/write_queue.hpp"
#include "appliance/http/server.hpp"
#include "appliance/loop_monitor.hpp"
#include "appliance/signalling/hub.hpp"
#include "appliance/systemd_notify.hpp"

#include "hwconfig/expected.hpp"
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

namespace consult {

struct DaemonOptions {
    ConfigSources config;
    std::optional<std::filesystem::path> state_dir;
    std::optional<int> http_port;
    bool demo = false;
};

struct StartError {
    int exit_code;        // sysexits-style: 78 config, 73 state dir, 70 store/server
    std::string message;
};

// The state dir: --state-dir, else systemd's $STATE_DIRECTORY, else /var/lib/consult
// for root, else $XDG_STATE_HOME/consult.
std::filesystem::path default_state_dir();

// SIGTERM/SIGINT handling, installed before start-up so a stop requested while
// the store migrates or the probe runs is still a clean stop.
class StopSignal {
public:
    StopSignal();
    ~StopSignal();
    bool requested() const { return requested_; }
    void on_stop(GMainLoop* loop) { loop_ = loop; }
private:
    static gboolean handle(gpointer self);
    bool requested_ = false;
    GMainLoop* loop_ = nullptr;
    guint sources_[2] = {0, 0};
};

class Daemon {
public:
    static expected<std::unique_ptr<Daemon>, StartError> start(const DaemonOptions& options);
    ~Daemon();

    int run(StopSignal& stop);   // the main loop, until SIGTERM or SIGINT

private:
    Daemon() = default;
    void on_probe_done(hw::ProbeResult result);
    static signalling::HubDeps hub_deps(Daemon& d);
    std::string status_line() const;

    std::unique_ptr<ApplianceContext> ctx_;
    std::unique_ptr<store::WriteQueue> writes_;   // writes a busy store will take later
    std::unique_ptr<store::AuditBatch> audits_;    // audit rows, committed in groups
    room::Events events_;
    // After the store (it borrows it) and before the hub (whose last events it hears).
    std::unique_ptr<callbacks::StatusCallbacks> callbacks_;
    std::unique_ptr<http::Server> server_;
    std::unique_ptr<signalling::Hub> hub_;
    SystemdNotifier notifier_;
    std::unique_ptr<LoopMonitor> loop_monitor_;
    GMainLoopPtr loop_;
    std::thread probe_thread_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);   // work posted to the loop lapses with the daemon
    guint sweep_timer_ = 0;
    guint retention_timer_ = 0;
    std::unique_ptr<cloud::CloudSync> cloud_;   // before ctx_ goes: it borrows the store
    std::unique_ptr<cloud::RecordingUploader> uploads_;   // composed recordings to the clinic's storage
    std::shared_ptr<fleet::FailureWindow> failures_;      // Metrics::count's failures go here too
    std::unique_ptr<fleet::StatusReporter> reporter_;     // before cloud_ goes: it borrows the sync
    std::unique_ptr<cloud::CodeClaimer> claimer_;         // the provisioning file's pairing code; borrows the sync
};

}  // namespace consult
