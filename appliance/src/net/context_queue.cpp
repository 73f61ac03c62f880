#include "appliance/net/context_queue.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

namespace consult::net {

struct ContextQueue::State {
    GMainContext* context = nullptr;
    std::mutex mutex;
    std::vector<GSource*> pending;   // attached, not yet dispatched
    ~State() { g_main_context_unref(context); }
};

namespace {

struct Item {
    std::shared_ptr<ContextQueue::State> state;
    std::function<void()> f;
};

}  // namespace

ContextQueue::ContextQueue(GMainContext* context) : state_(std::make_shared<State>()) {
    state_->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
}

ContextQueue::~ContextQueue() { drop_pending(); }

GMainContext* ContextQueue::context() const { return state_->context; }

void ContextQueue::post(std::function<void()> f) {
    auto* item = new Item{state_, std::move(f)};
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, [](gpointer p) -> gboolean {
        auto* item = static_cast<Item*>(p);
        {
            std::lock_guard lock(item->state->mutex);
            auto& list = item->state->pending;
            if (auto it = std::find(list.begin(), list.end(), g_main_current_source()); it != list.end()) {
                g_source_unref(*it);
                list.erase(it);
            }
        }
        auto f = std::move(item->f);   // may destroy the queue's owner; `item` stays valid until we return
        f();
        return G_SOURCE_REMOVE;
    }, item, [](gpointer p) { delete static_cast<Item*>(p); });
    {
        std::lock_guard lock(state_->mutex);
        state_->pending.push_back(g_source_ref(source));
    }
    g_source_attach(source, state_->context);
    g_source_unref(source);
}

void ContextQueue::drop_pending() {
    std::vector<GSource*> queued;
    {
        std::lock_guard lock(state_->mutex);
        queued.swap(state_->pending);
    }
    for (GSource* s : queued) {
        g_source_destroy(s);
        g_source_unref(s);
    }
}

}  // namespace consult::net
