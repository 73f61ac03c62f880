#include "appliance/net/filter_stream.hpp"

#include "hwconfig/c_boundary.hpp"

#include <memory>

using consult::net::ReadFilter;

extern "C" {

typedef struct {
    GInputStream parent;
    GInputStream* base;
    std::shared_ptr<ReadFilter>* filter;   // shared with the GIOStream: either may go first
} ConsultFilterInput;

typedef struct {
    GInputStreamClass parent_class;
} ConsultFilterInputClass;

static void consult_filter_input_pollable_init(GPollableInputStreamInterface* iface);

G_DEFINE_TYPE_WITH_CODE(ConsultFilterInput, consult_filter_input, G_TYPE_INPUT_STREAM,
                        G_IMPLEMENT_INTERFACE(G_TYPE_POLLABLE_INPUT_STREAM, consult_filter_input_pollable_init))

typedef struct {
    GIOStream parent;
    GIOStream* base;
    GInputStream* input;
    std::shared_ptr<ReadFilter>* filter;
    gboolean told_closed;
} ConsultFilterIO;

typedef struct {
    GIOStreamClass parent_class;
} ConsultFilterIOClass;

G_DEFINE_TYPE(ConsultFilterIO, consult_filter_io, G_TYPE_IO_STREAM)

}  // extern "C"

namespace {

ConsultFilterInput* input(gpointer p) { return reinterpret_cast<ConsultFilterInput*>(p); }
ConsultFilterIO* io(gpointer p) { return reinterpret_cast<ConsultFilterIO*>(p); }

gssize input_read(GInputStream* stream, void* buffer, gsize count, GCancellable* cancellable, GError** error) {
    auto* self = input(stream);
    return (*self->filter)->filter(buffer, count, g_input_stream_read(self->base, buffer, count, cancellable, error), error);
}

gboolean input_close(GInputStream*, GCancellable*, GError**) { return TRUE; }   // the base closes with the GIOStream

gboolean input_can_poll(GPollableInputStream* stream) {
    return g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(input(stream)->base));
}

gboolean input_is_readable(GPollableInputStream* stream) {
    return g_pollable_input_stream_is_readable(G_POLLABLE_INPUT_STREAM(input(stream)->base));
}

GSource* input_create_source(GPollableInputStream* stream, GCancellable* cancellable) {
    GSource* base = g_pollable_input_stream_create_source(G_POLLABLE_INPUT_STREAM(input(stream)->base), cancellable);
    GSource* source = g_pollable_source_new_full(stream, base, cancellable);
    g_source_unref(base);
    return source;
}

gssize input_read_nonblocking(GPollableInputStream* stream, void* buffer, gsize count, GError** error) {
    auto* self = input(stream);
    return (*self->filter)->filter(
        buffer, count, g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(self->base), buffer, count, nullptr, error),
        error);
}

void input_finalize(GObject* object) {
    g_clear_object(&input(object)->base);
    delete input(object)->filter;
    G_OBJECT_CLASS(consult_filter_input_parent_class)->finalize(object);
}

void tell_closed(ConsultFilterIO* self) {
    if (self->told_closed) return;
    self->told_closed = TRUE;
    consult::at_boundary("stream closed", [&] { (*self->filter)->closed(); });
}

GInputStream* io_input(GIOStream* stream) { return io(stream)->input; }
GOutputStream* io_output(GIOStream* stream) { return g_io_stream_get_output_stream(io(stream)->base); }

gboolean io_close(GIOStream* stream, GCancellable* cancellable, GError** error) {
    const gboolean ok = g_io_stream_close(io(stream)->base, cancellable, error);
    tell_closed(io(stream));
    return ok;
}

// The default would run the synchronous close on a worker thread, under the feet of
// whoever reads the base on this one.
void io_close_async(GIOStream* stream, int priority, GCancellable* cancellable, GAsyncReadyCallback callback, gpointer data) {
    GTask* task = g_task_new(stream, cancellable, callback, data);
    g_io_stream_close_async(io(stream)->base, priority, cancellable,
                            [](GObject* base, GAsyncResult* result, gpointer p) {
                                GTask* t = G_TASK(p);
                                tell_closed(io(g_task_get_source_object(t)));
                                GError* err = nullptr;
                                if (g_io_stream_close_finish(G_IO_STREAM(base), result, &err)) g_task_return_boolean(t, TRUE);
                                else g_task_return_error(t, err);
                                g_object_unref(t);
                            },
                            task);
}

gboolean io_close_finish(GIOStream*, GAsyncResult* result, GError** error) {
    return g_task_propagate_boolean(G_TASK(result), error);
}

void io_finalize(GObject* object) {
    auto* self = io(object);
    tell_closed(self);
    g_clear_object(&self->input);
    g_clear_object(&self->base);
    delete self->filter;
    G_OBJECT_CLASS(consult_filter_io_parent_class)->finalize(object);
}

}  // namespace

extern "C" {

static void consult_filter_input_class_init(ConsultFilterInputClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = input_finalize;
    G_INPUT_STREAM_CLASS(klass)->read_fn = input_read;
    G_INPUT_STREAM_CLASS(klass)->close_fn = input_close;
}

static void consult_filter_input_init(ConsultFilterInput*) {}

static void consult_filter_input_pollable_init(GPollableInputStreamInterface* iface) {
    iface->can_poll = input_can_poll;
    iface->is_readable = input_is_readable;
    iface->create_source = input_create_source;
    iface->read_nonblocking = input_read_nonblocking;
}

static void consult_filter_io_class_init(ConsultFilterIOClass* klass) {
    G_OBJECT_CLASS(klass)->finalize = io_finalize;
    GIOStreamClass* c = G_IO_STREAM_CLASS(klass);
    c->get_input_stream = io_input;
    c->get_output_stream = io_output;
    c->close_fn = io_close;
    c->close_async = io_close_async;
    c->close_finish = io_close_finish;
}

static void consult_filter_io_init(ConsultFilterIO*) {}

}  // extern "C"

namespace consult::net {

GIOStream* filter_stream_new(GIOStream* base, std::unique_ptr<ReadFilter> filter) {
    auto* s = io(g_object_new(consult_filter_io_get_type(), nullptr));
    s->base = G_IO_STREAM(g_object_ref(base));
    std::shared_ptr<ReadFilter> shared(std::move(filter));
    s->filter = new std::shared_ptr<ReadFilter>(shared);
    auto* in = input(g_object_new(consult_filter_input_get_type(), nullptr));
    in->base = G_INPUT_STREAM(g_object_ref(g_io_stream_get_input_stream(base)));
    in->filter = new std::shared_ptr<ReadFilter>(std::move(shared));
    s->input = G_INPUT_STREAM(in);
    return G_IO_STREAM(s);
}

}  // namespace consult::net
