#include "appliance/fleet/status_reporter.hpp"

#include "appliance/credentials.hpp"
#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "appliance/store/day_failures.hpp"
#include "appliance/store/outbox_store.hpp"
#include "appliance/update/rauc.hpp"
#include "appliance/version.hpp"

#include <sys/stat.h>
#include <time.h>

namespace consult::fleet {

namespace {

constexpr guint kStateCheckSeconds = 30;
constexpr std::size_t kStateFileMax = 64 * 1024;   // load_state's own cap

std::optional<std::string> camera_text(const hw::ProbeResult& p) {
    if (p.camera.name.empty()) return std::nullopt;
    return p.camera.test_source ? p.camera.name + " (test image: no camera in use)" : p.camera.name;
}

}  // namespace

StatusReporter::StatusReporter(ReporterDeps deps) : deps_(std::move(deps)) {}

StatusReporter::~StatusReporter() {
    for (guint t : {every_timer_, state_timer_})
        if (t) g_source_remove(t);
}

void StatusReporter::start() {
    last_stamp_ = stamp();
    report_now();
    const auto every = guint(std::max<long long>(60, deps_.every.count()));
    every_timer_ = g_timeout_add_seconds(every, [](gpointer p) -> gboolean {
        static_cast<StatusReporter*>(p)->report_now();
        return G_SOURCE_CONTINUE;
    }, this);
    state_timer_ = g_timeout_add_seconds(kStateCheckSeconds, [](gpointer p) -> gboolean {
        static_cast<StatusReporter*>(p)->check_update_state();
        return G_SOURCE_CONTINUE;
    }, this);
}

std::optional<StatusReporter::Stamp> StatusReporter::stamp() {
    struct stat st {};
    if (::stat(update::state_file(deps_.state_dir).c_str(), &st) != 0) return std::nullopt;
    return Stamp{st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec, st.st_size, st.st_ino};
}

void StatusReporter::check_update_state() {
    auto now = stamp();
    if (now == last_stamp_) return;
    last_stamp_ = now;
    log::info("the updater's state changed: reporting to the cloud");
    report_now();
}

ReportInputs StatusReporter::gather() {
    ReportInputs in;
    in.now = std::time(nullptr);
    const auto token = Credentials(deps_.state_dir).read("cloud-device-token");
    if (token && *token) in.device_id = token_device_id(**token);
    const nlohmann::json cloud = deps_.sync.status();
    if (cloud.contains("clinic_id") && cloud["clinic_id"].is_string() && !cloud["clinic_id"].get<std::string>().empty())
        in.clinic_id = cloud["clinic_id"].get<std::string>();
    in.cloud_sync_state = sync_state_line(cloud);
    in.version = update::image_version(read_small_file(deps_.paths.os_release).value_or(""), consult::version());
    in.cmdline = read_small_file(deps_.paths.cmdline, 4096);
    in.boot_id = boot_id(read_small_file(deps_.paths.boot_id, 128).value_or(""));
    // /proc/uptime, or the kernel's boot clock where the sandbox hides /proc (ProcSubset=pid);
    // a file that is there and says nonsense stays unknown.
    if (auto text = read_small_file(deps_.paths.uptime, 128)) {
        in.box_uptime_seconds = uptime_seconds(*text);
    } else if (timespec boot{}; ::clock_gettime(CLOCK_BOOTTIME, &boot) == 0) {
        in.box_uptime_seconds = std::int64_t(boot.tv_sec);
    }
    in.uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    try {
        in.update_state = update::load_state(update::state_file(deps_.state_dir));
    } catch (const std::exception& e) {   // load_state reports by value; this is for what it did not foresee
        in.update_state = unexpected(std::string(e.what()));
    }
    if (deps_.probe) {
        if (deps_.probe->encoder) in.encoder = std::string(deps_.probe->encoder->factory);
        in.camera = camera_text(*deps_.probe);
    }
    in.failures.in_memory = deps_.failures.last_day(in.now);
    const std::string day_ago = domain::iso_utc(in.now - 24 * 3600);
    in.failures.sms = store::failed_sms_since(deps_.db, day_ago);
    in.failures.status_callbacks_refused = store::refused_callbacks_since(deps_.db, day_ago);
    return in;
}

bool StatusReporter::report_now() {
    try {
        const nlohmann::json row = status_row(gather());
        if (row["device_id"].is_null() || row["clinic_id"].is_null()) {
            last_problem_ = "not paired with the clinic cloud: nothing to report to";
            return false;
        }
        store::OutboxStore(deps_.db).replace(kStatusTable, row["device_id"].get<std::string>(), row);
        queued_at_ = row["reported_at"].get<std::string>();
        last_problem_.clear();
        deps_.sync.sync_now();
        return true;
    } catch (const std::exception& e) {   // the store busy, a file gone mid-read: the next tick tries again
        last_problem_ = std::string("the report could not be queued: ") + e.what();
        log::warning("fleet report: " + last_problem_);
        return false;
    }
}

nlohmann::json StatusReporter::current() {
    nlohmann::json out;
    try {
        out["report"] = status_row(gather());
    } catch (const std::exception& e) {
        out["report"] = nullptr;
        out["problem"] = std::string("the report cannot be built: ") + e.what();
        return out;
    }
    const auto& device = out["report"]["device_id"];
    bool waiting = false;
    try {
        waiting = device.is_string() && store::OutboxStore(deps_.db).has_pending(kStatusTable, device.get<std::string>());
    } catch (const std::exception&) {}
    out["last_queued_at"] = queued_at_ ? nlohmann::json(*queued_at_) : nlohmann::json(nullptr);
    out["waiting_to_send"] = waiting;
    out["problem"] = last_problem_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_problem_);
    out["every_seconds"] = deps_.every.count();
    return out;
}

}  // namespace consult::fleet
