#include "appliance/off_loop.hpp"

#include "hwconfig/gref.hpp"

#include <gio/gio.h>

namespace consult {

namespace {

struct Job {
    std::function<bool()> work;
    std::function<void(bool)> done;
};

void run(GTask* task, gpointer, gpointer data, GCancellable*) {
    g_task_return_boolean(task, static_cast<Job*>(data)->work());
}

void finished(GObject*, GAsyncResult* result, gpointer) {
    GTask* task = G_TASK(result);
    auto* job = static_cast<Job*>(g_task_get_task_data(task));
    const bool ok = g_task_propagate_boolean(task, nullptr);
    job->done(ok);
}

}  // namespace

void run_off_loop(std::function<bool()> work, std::function<void(bool)> done, GMainContext* context) {
    // A GTask returns to the thread-default context of where it was made.
    if (context) g_main_context_push_thread_default(context);
    GRef<GTask> task = adopt(g_task_new(nullptr, nullptr, &finished, nullptr));
    if (context) g_main_context_pop_thread_default(context);
    g_task_set_task_data(task.get(), new Job{std::move(work), std::move(done)},
                         [](gpointer p) { delete static_cast<Job*>(p); });
    g_task_run_in_thread(task.get(), &run);
}

}  // namespace consult
