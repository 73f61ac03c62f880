// The one way this program hands work to a GLib main loop: `post` (soon, on the
// thread running `context`, from any thread) and `later` (after a wait, on the thread
// default context). Both skip the work when its owner (`alive`) is gone, and run it
// through the exception firewall (c_boundary.hpp).
#pragma once

#include <glib.h>

#include <chrono>
#include <functional>
#include <memory>

namespace consult {

// Always deferred, even when called on that thread: a signal emitted while the caller
// is still building something must not run before it is in place.
void post(GMainContext* context, std::weak_ptr<void> alive, std::function<void()> f, const char* where = "posted work");

// Runs `f` once after `wait` on the thread-default main context; returns the source id.
guint later(std::chrono::milliseconds wait, std::function<void()> f, const char* where = "timer");

}  // namespace consult
