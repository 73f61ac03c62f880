#include "appliance/net/context_queue.hpp"

#include "hwconfig/main_loop.hpp"

#include <mutex>

namespace consult::net {

// Work goes through consult::post, the program's one way onto a main loop; the queue's
// own token is what makes pending work lapse: dropping it (or the queue) skips them all.
struct ContextQueue::State {
    GMainContext* context = nullptr;
    std::mutex mutex;
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
    ~State() { g_main_context_unref(context); }
};

ContextQueue::ContextQueue(GMainContext* context) : state_(std::make_shared<State>()) {
    state_->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
}

ContextQueue::~ContextQueue() { drop_pending(); }

GMainContext* ContextQueue::context() const { return state_->context; }

void ContextQueue::post(std::function<void()> f) {
    std::weak_ptr<bool> alive;
    {
        std::lock_guard lock(state_->mutex);
        alive = state_->alive;
    }
    consult::post(state_->context, std::weak_ptr<void>(alive), std::move(f), "queued work");
}

void ContextQueue::drop_pending() {
    std::lock_guard lock(state_->mutex);
    state_->alive = std::make_shared<bool>(true);
}

}  // namespace consult::net
