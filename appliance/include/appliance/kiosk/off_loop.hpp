// Work that would stall the main loop (a slow KDF) runs on GLib's thread pool; its
// result comes back on the main context of the caller.
#pragma once

#include <functional>

namespace consult::kiosk {

// `work` must own everything it touches (no store, no context); `done` runs on the
// calling thread's main context.
void run_off_loop(std::function<bool()> work, std::function<void(bool)> done);

}  // namespace consult::kiosk
