// The recordings on this box: where their files live (the state directory's
// recordings/, 0700, never served as a path), whether there is room to start one, the
// parts a call writes, the composition into one playable file after the call (a
// low-priority worker process, paused while any call runs), deletion that keeps the
// rows, and the daily retention. Runs on the main loop.
#pragma once

#include "appliance/config.hpp"
#include "appliance/metrics.hpp"
#include "appliance/store/database.hpp"
#include "appliance/store/recording_store.hpp"

#include <gio/gio.h>

#include <ctime>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace consult::recording {

// What the patient is asked, from the clinic's settings; its version is stored with
// every answer.
struct ConsentText {
    std::string version;
    std::string text;
};
ConsentText consent_text(const Config::Recording& config);

struct RecordingsDeps {
    store::Database& db;
    const Config::Recording& config;
    std::filesystem::path dir;                 // <state dir>/recordings
    Metrics& metrics;
    std::function<bool()> calls_running;       // the composer waits (and pauses) while true
    std::filesystem::path composer;            // the consult-compose program; empty: composing off
    std::vector<std::string> composer_args;    // e.g. {"--encoder", "vaapih264enc"} for a hardware encoder
    std::string composed_extension = ".webm";  // what the composer writes with those arguments
    // A recording's row changed state (composing, ready, failed, deleted).
    std::function<void(const store::RecordingRow&)> changed;
};

class Recordings {
public:
    explicit Recordings(RecordingsDeps deps);
    ~Recordings();
    Recordings(const Recordings&) = delete;
    Recordings& operator=(const Recordings&) = delete;

    // Recordings left behind by a stop or a crash: a part still "recording" is closed
    // (its file plays up to where it ended), and every ended recording is composed.
    void recover();

    // Why a recording cannot start now, for both screens; nothing when it can.
    // `kbps`: what the call's media adds up to.
    std::optional<std::string> refusal(unsigned kbps) const;
    // True when a running recording should stop: less than a minute of room is left.
    bool nearly_full(unsigned kbps) const;

    struct Part {
        std::string recording_id, recording_sid;
        int n = 0;
        std::filesystem::path file;   // absolute
    };
    Part begin_part(const std::string& session_id, const std::string& actor);
    void end_part(const Part& part);
    // The call is over: what it recorded is composed (later, by the worker).
    void call_ended(const std::string& session_id);
    // Removes the media (parts and composed file); the row stays, state `deleted`, and
    // its cloud copy, if it has one, is queued for deletion (cloud/recording_uploader.hpp).
    void remove(const std::string& recording_id, const std::string& by, const std::string& reason);
    // Deletes the media of recordings whose call ended more than retention_days ago.
    int apply_retention(std::time_t now);

    // The composed file of a ready recording, checked to be inside the recordings directory.
    std::optional<std::filesystem::path> media_path(const store::RecordingRow& row) const;
    // A call started or the last one ended: the composer pauses or goes on.
    void calls_changed();
    bool composing() const { return worker_ != nullptr; }
    std::string metrics_text();

    const std::filesystem::path& dir() const { return deps_.dir; }

private:
    struct Worker;
    struct Reader;
    void read_output(Worker* w);
    static void on_line(GObject* src, GAsyncResult* res, gpointer p);
    static void on_exit(GObject* src, GAsyncResult* res, gpointer p);
    void stop_worker();
    void queue(const std::string& recording_id);
    void next_job();
    void job_done(std::string recording_id, std::string last_line, bool ok, double seconds);
    void announce(const std::string& recording_id);

    RecordingsDeps deps_;
    std::deque<std::string> jobs_;
    std::unique_ptr<Worker> worker_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace consult::recording
