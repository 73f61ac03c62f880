// Work handed from a worker thread to a GLib main context: post() from any thread, the
// function runs on the context's thread. What has not run when the queue goes (or
// drop_pending() is called, on the context's thread) never runs.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>

namespace consult::net {

class ContextQueue {
public:
    explicit ContextQueue(GMainContext* context);   // nullptr: the calling thread's default context
    ~ContextQueue();
    ContextQueue(const ContextQueue&) = delete;
    ContextQueue& operator=(const ContextQueue&) = delete;

    void post(std::function<void()> f);
    void drop_pending();
    GMainContext* context() const;

    struct State;

private:
    std::shared_ptr<State> state_;
};

}  // namespace consult::net
