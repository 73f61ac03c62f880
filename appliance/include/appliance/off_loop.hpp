// Work that would stall the main loop (a slow KDF, a big file's hash) runs on GLib's
// thread pool; its result comes back on a main context.
#pragma once

#include <glib.h>

#include <functional>

namespace consult {

// `work` must own everything it touches (no store, no context); `done` runs on
// `context`, by default the calling thread's.
void run_off_loop(std::function<bool()> work, std::function<void(bool)> done, GMainContext* context = nullptr);

}  // namespace consult
