// GStreamer calls back on its own threads; the listener wants the main loop's.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

namespace consult::media {

// Runs `f` later on `context`'s thread, unless the owner (`alive`) is gone by then.
// Always deferred, even from that thread: a signal emitted while the caller is still
// building a peer must not run before the peer is in place.
inline void post(GMainContext* context, std::weak_ptr<bool> alive, std::function<void()> f) {
    struct Job {
        std::weak_ptr<bool> alive;
        std::function<void()> f;
    };
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(
        source,
        [](gpointer p) -> gboolean {
            auto* job = static_cast<Job*>(p);
            if (job->alive.lock()) job->f();
            return G_SOURCE_REMOVE;
        },
        new Job{std::move(alive), std::move(f)}, [](gpointer p) { delete static_cast<Job*>(p); });
    g_source_attach(source, context);
    g_source_unref(source);
}

}  // namespace consult::media
