// The composition's own main context: bus watches on the pipelines it runs, and a tick
// every 500 ms that reports progress, checks for a cancel and keeps the watchdog. The
// watchdog counts ticks, not clock time: after a SIGSTOP/SIGCONT a late tick fires once,
// so a paused process is never taken for a stalled pipeline.
#pragma once

#include "hwconfig/expected.hpp"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace consult::media::composition {

inline constexpr std::chrono::milliseconds kTick{500};

class ComposeLoop {
public:
    ComposeLoop(std::chrono::milliseconds stall_timeout, const std::atomic<bool>* cancel);
    ~ComposeLoop();
    ComposeLoop(const ComposeLoop&) = delete;
    ComposeLoop& operator=(const ComposeLoop&) = delete;

    struct Watched {
        GstElement* pipeline;
        std::string label;   // starts its errors ("part 2 (b.mkv)"); may be empty
    };

    // Runs until `waited` posts EOS. An error from it or from one of `also` (pipelines
    // running beside it), `progress_marker` unchanged for the stall timeout, or a cancel
    // ("cancelled") ends the run with an error naming what failed. `on_tick` runs on every tick.
    expected<void, std::string> run_until_eos(const Watched& waited, const std::vector<Watched>& also,
                                              const std::function<std::uint64_t()>& progress_marker,
                                              const std::function<void()>& on_tick = {});

    // After a run that ended on an error: the pipeline whose bus posted it (the waited
    // one or one of `also`); nullptr for a stall, a cancel or a run that ended well.
    GstElement* failed_pipeline() const { return failed_pipeline_; }

private:
    struct Run;
    static gboolean on_bus(GstBus* bus, GstMessage* msg, gpointer run);
    static gboolean on_tick(gpointer run);

    GMainContext* context_;
    unsigned stall_ticks_;
    const std::atomic<bool>* cancel_;
    GstElement* failed_pipeline_ = nullptr;
};

// "element: message" for an error message.
std::string describe_error(GstMessage* msg);

}  // namespace consult::media::composition
