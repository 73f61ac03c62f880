// GStreamer calls back on its own threads; the listener wants the main loop's.
#pragma once

#include "hwconfig/main_loop.hpp"

namespace consult::media {

// Runs `f` later on `context`'s thread, unless the owner (`alive`) is gone by then.
inline void post(GMainContext* context, std::weak_ptr<bool> alive, std::function<void()> f) {
    consult::post(context, std::weak_ptr<void>(alive), std::move(f), "media callback");
}

}  // namespace consult::media
