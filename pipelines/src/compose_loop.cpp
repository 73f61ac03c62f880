#include "compose_loop.hpp"

#include "hwconfig/c_boundary.hpp"
#include "hwconfig/gref.hpp"

#include <algorithm>
#include <optional>

namespace consult::media::composition {

namespace {

std::string labelled(const std::string& label, const std::string& text) {
    return label.empty() ? text : label + ": " + text;
}

}  // namespace

struct ComposeLoop::Run {
    ComposeLoop* loop;
    const Watched* waited;
    const std::function<std::uint64_t()>* marker;
    const std::function<void()>* tick;
    std::uint64_t last_marker = 0;
    unsigned idle_ticks = 0;
    bool done = false;
    std::optional<std::string> error;
    GstElement* failed = nullptr;   // whose bus posted the error
    std::vector<std::pair<Run*, const Watched*>> buses;   // bus watch user data

    void finish(std::optional<std::string> e) {
        if (done) return;
        done = true;
        error = std::move(e);
    }
};

std::string describe_error(GstMessage* msg) {
    GErrorOut err;
    GCharPtr debug;
    {
        gchar* d = nullptr;
        gst_message_parse_error(msg, err.out(), &d);
        debug.reset(d);
    }
    std::string where = GST_MESSAGE_SRC(msg) ? GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) : "pipeline";
    std::string text = where + ": " + err.message();
    // The debug string's last line says why in the element's words; the rest is a source path.
    if (debug) {
        std::string d = debug.get();
        const auto nl = d.rfind('\n');
        if (nl != std::string::npos) d = d.substr(nl + 1);
        const auto colon = d.rfind("):");
        if (colon != std::string::npos) d = d.substr(colon + 2);
        while (!d.empty() && d.front() == ' ') d.erase(0, 1);
        if (!d.empty() && d.size() < 200) text += " (" + d + ")";
    }
    return text;
}

ComposeLoop::ComposeLoop(std::chrono::milliseconds stall_timeout, const std::atomic<bool>* cancel)
    : context_(g_main_context_new()),
      stall_ticks_(unsigned(std::max<std::int64_t>(1, stall_timeout / kTick))),
      cancel_(cancel) {
    g_main_context_push_thread_default(context_);
}

ComposeLoop::~ComposeLoop() {
    g_main_context_pop_thread_default(context_);
    g_main_context_unref(context_);
}

gboolean ComposeLoop::on_bus(GstBus*, GstMessage* msg, gpointer p) {
    auto* watch = static_cast<std::pair<Run*, const Watched*>*>(p);
    Run* run = watch->first;
    at_boundary("compose bus", [&] {
        switch (GST_MESSAGE_TYPE(msg)) {
        case GST_MESSAGE_ERROR:
            if (!run->done) run->failed = watch->second->pipeline;
            run->finish(labelled(watch->second->label, describe_error(msg)));
            break;
        case GST_MESSAGE_EOS:
            if (GST_MESSAGE_SRC(msg) == GST_OBJECT(run->waited->pipeline)) run->finish(std::nullopt);
            break;
        default:
            break;
        }
    });
    return G_SOURCE_CONTINUE;
}

gboolean ComposeLoop::on_tick(gpointer p) {
    auto* run = static_cast<Run*>(p);
    at_boundary("compose tick", [&] {
        if (run->loop->cancel_ && run->loop->cancel_->load()) {
            run->finish("cancelled");
            return;
        }
        if (*run->tick) (*run->tick)();
        const std::uint64_t now = (*run->marker)();
        if (now != run->last_marker) {
            run->last_marker = now;
            run->idle_ticks = 0;
        } else if (++run->idle_ticks >= run->loop->stall_ticks_) {
            const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(run->idle_ticks * kTick).count();
            run->finish(labelled(run->waited->label, "no progress for " + std::to_string(seconds) + " s: the pipeline stalled"));
        }
    });
    return G_SOURCE_CONTINUE;
}

expected<void, std::string> ComposeLoop::run_until_eos(const Watched& waited, const std::vector<Watched>& also,
                                                       const std::function<std::uint64_t()>& progress_marker,
                                                       const std::function<void()>& on_tick_fn) {
    const std::function<void()> no_tick = [] {};
    Run run{this, &waited, &progress_marker, on_tick_fn ? &on_tick_fn : &no_tick};
    failed_pipeline_ = nullptr;
    run.last_marker = progress_marker();
    run.buses.emplace_back(&run, &waited);
    for (const Watched& w : also) run.buses.emplace_back(&run, &w);
    std::vector<GSource*> sources;
    for (auto& watch : run.buses) {
        GRef<GstBus> bus = adopt(gst_element_get_bus(watch.second->pipeline));
        GSource* source = gst_bus_create_watch(bus.get());
        g_source_set_callback(source, G_SOURCE_FUNC(&ComposeLoop::on_bus), &watch, nullptr);
        g_source_attach(source, context_);
        sources.push_back(source);
    }
    GSource* tick = g_timeout_source_new(guint(kTick.count()));
    g_source_set_callback(tick, &ComposeLoop::on_tick, &run, nullptr);
    g_source_attach(tick, context_);
    sources.push_back(tick);

    while (!run.done) g_main_context_iteration(context_, TRUE);

    for (GSource* s : sources) {
        g_source_destroy(s);
        g_source_unref(s);
    }
    failed_pipeline_ = run.failed;
    if (run.error) return unexpected(*run.error);
    return {};
}

}  // namespace consult::media::composition
