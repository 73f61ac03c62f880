// consultd's side of the fleet report: gathers what the box knows (status_report.hpp),
// puts the newest report in the cloud outbox (an older one still waiting gives way), and
// asks the sync to push it. It reports once the hardware probe has run, every
// 15 minutes, and within half a minute of the updater's state file
// changing (its mtime, size and inode: a stat, no read). It only reads the updater's
// files. Everything runs on the main loop and is small: files of a few KB, short queries.
#pragma once

#include "appliance/cloud/cloud_sync.hpp"
#include "appliance/fleet/box_facts.hpp"
#include "appliance/fleet/failure_window.hpp"
#include "appliance/fleet/status_report.hpp"
#include "appliance/store/database.hpp"
#include "hwconfig/probe.hpp"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>

namespace consult::fleet {

struct ReporterDeps {
    store::Database& db;
    cloud::CloudSync& sync;
    const std::optional<hw::ProbeResult>& probe;
    std::filesystem::path state_dir;   // credentials and the updater's update/state.json
    BoxPaths paths;
    const FailureWindow& failures;
    std::chrono::seconds every{900};   // every 15 minutes
};

class StatusReporter {
public:
    explicit StatusReporter(ReporterDeps deps);
    ~StatusReporter();
    StatusReporter(const StatusReporter&) = delete;
    StatusReporter& operator=(const StatusReporter&) = delete;

    void start();          // a report now, then on the timers
    bool report_now();     // builds and queues the row; false (logged, never thrown) when it could not
    // GET /api/system/fleet-status: the report as it would go now, and what became of the last one.
    nlohmann::json current();

private:
    ReportInputs gather();
    void check_update_state();   // a report when the updater's state file changed

    using Stamp = std::tuple<long long, long long, unsigned long long>;   // mtime ns, size, inode
    std::optional<Stamp> stamp();

    ReporterDeps deps_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    guint every_timer_ = 0, state_timer_ = 0;
    std::optional<Stamp> last_stamp_;
    std::optional<std::string> queued_at_;   // when the last report went into the outbox
    std::string last_problem_;               // why the last report could not be queued
};

}  // namespace consult::fleet
