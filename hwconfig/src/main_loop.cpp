#include "hwconfig/main_loop.hpp"

#include "hwconfig/c_boundary.hpp"

namespace consult {

namespace {

struct Job {
    std::weak_ptr<void> alive;
    bool owned;   // false: no owner to check
    std::function<void()> f;
    const char* where;
};

gboolean run(gpointer p) {
    auto* job = static_cast<Job*>(p);
    if (!job->owned || job->alive.lock()) at_boundary(job->where, job->f);
    return G_SOURCE_REMOVE;
}

void drop(gpointer p) { delete static_cast<Job*>(p); }

}  // namespace

void post(GMainContext* context, std::weak_ptr<void> alive, std::function<void()> f, const char* where) {
    GSource* source = g_idle_source_new();
    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, run, new Job{std::move(alive), true, std::move(f), where}, drop);
    g_source_attach(source, context);
    g_source_unref(source);
}

guint later(std::chrono::milliseconds wait, std::function<void()> f, const char* where) {
    GSource* source = g_timeout_source_new(guint(std::max<std::int64_t>(0, wait.count())));
    g_source_set_callback(source, run, new Job{{}, false, std::move(f), where}, drop);
    const guint id = g_source_attach(source, g_main_context_get_thread_default());
    g_source_unref(source);
    return id;
}

}  // namespace consult
