#include "appliance/recording/recordings.hpp"

#include "appliance/domain/time.hpp"
#include "appliance/log.hpp"
#include "hwconfig/gref.hpp"

#include <gio/gio.h>
#include <sys/statvfs.h>

#include <csignal>
#include <sstream>
#include <system_error>

namespace consult::recording {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kBytesPerKbitSecond = 1000 / 8;

std::uint64_t free_bytes(const fs::path& dir) {
    struct statvfs v {};
    if (statvfs(dir.c_str(), &v) != 0) return 0;
    return std::uint64_t(v.f_bavail) * v.f_frsize;
}

std::uint64_t bytes_for(unsigned kbps, int seconds) { return std::uint64_t(kbps) * kBytesPerKbitSecond * seconds; }

std::int64_t size_of(const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? 0 : std::int64_t(n);
}

// "done <duration_ms> <size_bytes> <container> <codec>"
struct Done {
    std::int64_t duration_ms = 0, size = 0;
    std::string container, codec;
};
std::optional<Done> parse_done(const std::string& line) {
    std::istringstream in(line);
    std::string word;
    Done d;
    if (!(in >> word) || word != "done" || !(in >> d.duration_ms >> d.size >> d.container >> d.codec)) return std::nullopt;
    if (d.duration_ms < 0 || d.size < 0) return std::nullopt;
    return d;
}

}  // namespace

ConsentText consent_text(const Config::Recording& config) {
    std::string what = config.include_patient ? "the doctor's camera and microphone, and yours"
                                              : "the doctor's camera and microphone (not your camera or microphone)";
    return {"1-" + std::to_string(config.retention_days) + (config.include_patient ? "-both" : "-room"),
            "The doctor would like to record this consultation. The recording holds " + what +
                ". Only your doctor and the clinic's administrators can see it; every time it is opened is logged. "
                "It is kept for " + std::to_string(config.retention_days) +
                " days, then deleted. You can stop the recording at any time with one tap. Nothing is recorded "
                "unless you say yes."};
}

// The composer process and its output, read line by line on the main loop.
struct Recordings::Worker {
    std::string recording_id;
    GRef<GSubprocess> process;
    GRef<GDataInputStream> out;
    GRef<GCancellable> cancel = adopt(g_cancellable_new());
    std::string last_line;
    gint64 started_us = g_get_monotonic_time();
    bool paused = false;
};

Recordings::Recordings(RecordingsDeps deps) : deps_(std::move(deps)) {
    std::error_code ec;
    fs::create_directories(deps_.dir, ec);
    fs::permissions(deps_.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    deps_.metrics.set_help("consult_recording_consent_total", "counter",
                           "Recording consent requests and answers (asked, given, declined, withdrawn).");
    deps_.metrics.set_help("consult_recorded_seconds_total", "counter", "Seconds of calls recorded.");
    deps_.metrics.set_help("consult_recording_compose_seconds_total", "counter",
                           "Time spent composing recordings after calls (with _count of compositions).");
}

Recordings::~Recordings() {
    *alive_ = false;
    stop_worker();
}

void Recordings::recover() {
    store::RecordingStore rs(deps_.db);
    for (const auto& r : rs.in_state("recording")) {
        for (const auto& p : r.parts)
            if (!p.ended_at) rs.end_part(r.id, p.n, size_of(deps_.dir / p.file));
        log::warning("a recording was cut short by a stop; it is kept up to where it ended", {{"SESSION_ID", r.session_id}});
        call_ended(r.session_id);
    }
    for (const auto& r : rs.in_state("paused")) call_ended(r.session_id);
    for (const auto& r : rs.in_state("composing")) queue(r.id);
}

std::optional<std::string> Recordings::refusal(unsigned kbps) const {
    if (!deps_.config.enabled) return "Recording is turned off in this clinic's settings.";
    if (free_bytes(deps_.dir) < bytes_for(kbps, deps_.config.min_free_minutes * 60))
        return "The appliance's disk has room for less than " + std::to_string(deps_.config.min_free_minutes) +
               " minutes of recording: nothing is recorded. Clinic IT can free space by deleting old recordings.";
    return std::nullopt;
}

bool Recordings::nearly_full(unsigned kbps) const { return free_bytes(deps_.dir) < bytes_for(kbps, 60); }

Recordings::Part Recordings::begin_part(const std::string& session_id, const std::string& actor) {
    auto [row, part] = store::RecordingStore(deps_.db).begin_part(session_id, actor);
    Part out{row.id, row.recording_sid, part.n, deps_.dir / part.file};
    std::error_code ec;
    fs::create_directories(out.file.parent_path(), ec);
    fs::permissions(out.file.parent_path(), fs::perms::owner_all, fs::perm_options::replace, ec);
    return out;
}

void Recordings::end_part(const Part& part) {
    store::RecordingStore rs(deps_.db);
    rs.end_part(part.recording_id, part.n, size_of(part.file));
    if (auto row = rs.find(part.recording_id)) {
        if (!row->parts.empty()) {
            const auto& p = row->parts.back();
            if (p.ended_at) {
                auto seconds = domain::parse_iso(*p.ended_at).value_or(0) - domain::parse_iso(p.started_at).value_or(0);
                if (seconds > 0) deps_.metrics.count("consult_recorded_seconds_total", {}, double(seconds));
            }
        }
    }
}

void Recordings::call_ended(const std::string& session_id) {
    store::RecordingStore rs(deps_.db);
    auto row = rs.for_session(session_id);
    if (!row || row->state != "paused") return;
    if (row->parts.empty()) return;
    rs.set_state(row->id, "composing");
    announce(row->id);
    queue(row->id);
}

void Recordings::remove(const std::string& recording_id, const std::string& by, const std::string& reason) {
    store::RecordingStore rs(deps_.db);
    auto row = rs.find(recording_id);
    if (!row || row->state == "deleted") return;
    const bool was_composing = worker_ && worker_->recording_id == recording_id;
    if (was_composing) stop_worker();
    std::erase(jobs_, recording_id);
    std::error_code ec;
    for (const auto& p : row->parts) fs::remove(deps_.dir / p.file, ec);
    if (row->media_file) fs::remove(deps_.dir / *row->media_file, ec);
    fs::remove_all(deps_.dir / row->session_id, ec);
    rs.deleted(recording_id, by, reason);
    log::info("recording deleted: " + reason, {{"SESSION_ID", row->session_id}, {"RECORDING_SID", row->recording_sid}});
    announce(recording_id);
    if (was_composing) next_job();
}

int Recordings::apply_retention(std::time_t now) {
    const std::time_t cutoff = now - std::time_t(deps_.config.retention_days) * 86400;
    int n = 0;
    for (const auto& r : store::RecordingStore(deps_.db).ended_before(domain::iso_utc(cutoff))) {
        remove(r.id, "retention", "kept for " + std::to_string(deps_.config.retention_days) + " days");
        ++n;
    }
    return n;
}

std::optional<fs::path> Recordings::media_path(const store::RecordingRow& row) const {
    if (row.state != "ready" || !row.media_file) return std::nullopt;
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(deps_.dir / *row.media_file, ec);
    const fs::path base = fs::weakly_canonical(deps_.dir, ec);
    if (ec || p.string().rfind(base.string() + "/", 0) != 0 || !fs::is_regular_file(p, ec)) return std::nullopt;
    return p;
}

void Recordings::announce(const std::string& recording_id) {
    if (!deps_.changed) return;
    if (auto row = store::RecordingStore(deps_.db).find(recording_id)) deps_.changed(*row);
}

// ---------------------------------------------------------------- the composer

void Recordings::queue(const std::string& recording_id) {
    if (std::find(jobs_.begin(), jobs_.end(), recording_id) == jobs_.end() &&
        !(worker_ && worker_->recording_id == recording_id))
        jobs_.push_back(recording_id);
    next_job();
}

void Recordings::calls_changed() {
    const bool busy = deps_.calls_running && deps_.calls_running();
    if (worker_ && worker_->paused != busy) {
        // A call needs the CPU: the composer stops where it is and goes on after.
        g_subprocess_send_signal(worker_->process.get(), busy ? SIGSTOP : SIGCONT);
        worker_->paused = busy;
        log::info(busy ? "composing paused for a call" : "composing goes on");
    }
    if (!busy) next_job();
}

void Recordings::next_job() {
    if (worker_ || jobs_.empty()) return;
    if (deps_.calls_running && deps_.calls_running()) return;
    const std::string id = jobs_.front();
    jobs_.pop_front();
    store::RecordingStore rs(deps_.db);
    auto row = rs.find(id);
    if (!row || row->state != "composing") return next_job();
    if (deps_.composer.empty()) {
        rs.set_state(id, "failed", std::string("this appliance has no composer installed"));
        announce(id);
        return next_job();
    }
    const std::string output = row->session_id + "/consultation" + deps_.composed_extension;
    std::error_code ec;
    fs::remove(deps_.dir / output, ec);
    std::vector<std::string> args{deps_.composer.string()};
    args.insert(args.end(), deps_.composer_args.begin(), deps_.composer_args.end());
    args.push_back((deps_.dir / output).string());
    for (const auto& p : row->parts) args.push_back((deps_.dir / p.file).string());
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    GError* err = nullptr;
    GSubprocess* proc = g_subprocess_newv(argv.data(), G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err);
    if (!proc) {
        rs.set_state(id, "failed", std::string("the composer did not start: ") + (err ? err->message : "?"));
        if (err) g_error_free(err);
        announce(id);
        return next_job();
    }
    worker_ = std::make_unique<Worker>();
    worker_->recording_id = id;
    worker_->process = adopt(proc);
    worker_->out = adopt(g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc)));
    log::info("composing the recording", {{"SESSION_ID", row->session_id}, {"PARTS", std::to_string(row->parts.size())}});

    read_output(worker_.get());
}

// The composer's output, one line at a time, then its exit. Every callback checks that
// this Recordings still exists and that its job was not cancelled (a deletion).
struct Recordings::Reader {
    Recordings* self;
    std::weak_ptr<bool> alive;
    Worker* worker;
};

void Recordings::read_output(Worker* w) {
    g_data_input_stream_read_line_async(w->out.get(), G_PRIORITY_LOW, w->cancel.get(), &Recordings::on_line,
                                        new Reader{this, alive_, w});
}

void Recordings::on_line(GObject* src, GAsyncResult* res, gpointer p) {
    std::unique_ptr<Reader> r(static_cast<Reader*>(p));
    gsize len = 0;
    GError* e = nullptr;
    char* line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src), res, &len, &e);
    const bool cancelled = e && g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    if (e) g_error_free(e);
    auto alive = r->alive.lock();
    if (cancelled || !alive || !*alive) {
        g_free(line);
        return;
    }
    if (line) {
        std::string l(line, len);
        g_free(line);
        // What the composer left out or cut is for clinic IT to read, not only the result.
        if (l.starts_with("note "))
            log::warning("composing a recording: " + l.substr(5, 500), {{"RECORDING_ID", r->worker->recording_id}});
        if (!l.starts_with("progress ")) r->worker->last_line = l.substr(0, 500);
        r->self->read_output(r->worker);
        return;
    }
    Worker* w = r->worker;
    g_subprocess_wait_async(w->process.get(), w->cancel.get(), &Recordings::on_exit, r.release());
}

void Recordings::on_exit(GObject* src, GAsyncResult* res, gpointer p) {
    std::unique_ptr<Reader> r(static_cast<Reader*>(p));
    GError* e = nullptr;
    const bool waited = g_subprocess_wait_finish(G_SUBPROCESS(src), res, &e);
    if (e) g_error_free(e);
    auto alive = r->alive.lock();
    if (!waited || !alive || !*alive || r->self->worker_.get() != r->worker) return;
    const bool ok = g_subprocess_get_if_exited(G_SUBPROCESS(src)) && g_subprocess_get_exit_status(G_SUBPROCESS(src)) == 0;
    const double seconds = double(g_get_monotonic_time() - r->worker->started_us) / 1e6;
    // A GLib callback: nothing may escape it (a busy or broken store would end the daemon).
    try {
        r->self->job_done(r->worker->recording_id, r->worker->last_line, ok, seconds);
    } catch (const std::exception& e) {
        log::error(std::string("could not record the end of composing: ") + e.what());
        r->self->worker_.reset();
    }
}

void Recordings::stop_worker() {
    if (!worker_) return;
    g_cancellable_cancel(worker_->cancel.get());
    if (worker_->paused) g_subprocess_send_signal(worker_->process.get(), SIGCONT);
    g_subprocess_force_exit(worker_->process.get());
    worker_.reset();
}

void Recordings::job_done(std::string recording_id, std::string last_line, bool ok, double seconds) {
    // By value: both came from the worker, which goes now.
    worker_.reset();
    store::RecordingStore rs(deps_.db);
    auto row = rs.find(recording_id);
    if (row && row->state == "composing") {
        auto done = ok ? parse_done(last_line) : std::nullopt;
        if (done) {
            rs.composed(recording_id, row->session_id + "/consultation" + deps_.composed_extension, done->duration_ms,
                        done->size, done->container, done->codec);
            deps_.metrics.count("consult_recording_compose_seconds_total", {}, seconds);
            deps_.metrics.count("consult_recording_compose_seconds_count", {});
            log::info("recording composed", {{"SESSION_ID", row->session_id}});
        } else {
            std::string why = last_line.starts_with("error ") ? last_line.substr(6) : "the composer stopped without a result";
            rs.set_state(recording_id, "failed", why);
            log::error("composing a recording failed: " + why, {{"SESSION_ID", row->session_id}});
        }
        announce(recording_id);
    }
    next_job();
}

std::string Recordings::metrics_text() {
    std::ostringstream out;
    out << "# HELP consult_recordings Recordings on this box by state.\n# TYPE consult_recordings gauge\n";
    std::int64_t bytes = 0;
    store::RecordingStore rs(deps_.db);
    for (const auto& [state, n] : rs.count_by_state()) out << "consult_recordings{state=\"" << state << "\"} " << n << "\n";
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(deps_.dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
        if (it->is_regular_file(ec)) bytes += std::int64_t(it->file_size(ec));
    out << "# HELP consult_recording_bytes Bytes of recordings on this box's disk.\n# TYPE consult_recording_bytes gauge\n"
        << "consult_recording_bytes " << bytes << "\n";
    out << "# HELP consult_recording_composing Whether the composer runs now (1) or is paused for a call (2).\n"
        << "# TYPE consult_recording_composing gauge\nconsult_recording_composing "
        << (worker_ ? (worker_->paused ? 2 : 1) : 0) << "\n";
    return out.str();
}

}  // namespace consult::recording
