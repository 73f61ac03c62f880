// GStreamer calls back on its own threads; the listener wants the main loop's.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

namespace consult::media {

// Runs `f` on `context`'s thread unless the owner (`alive`) is gone by then.
inline void post(GMainContext* context, std::weak_ptr<bool> alive, std::function<void()> f) {
    struct Job {
        std::weak_ptr<bool> alive;
        std::function<void()> f;
    };
    g_main_context_invoke_full(
        context, G_PRIORITY_DEFAULT,
        [](gpointer p) -> gboolean {
            auto* job = static_cast<Job*>(p);
            if (job->alive.lock()) job->f();
            return G_SOURCE_REMOVE;
        },
        new Job{std::move(alive), std::move(f)}, [](gpointer p) { delete static_cast<Job*>(p); });
}

}  // namespace consult::media
