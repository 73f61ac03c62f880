// Ownership of GLib/GObject/GStreamer objects. The only place that calls
// g_object_unref / gst_object_unref directly; everything else holds a GRef or a
// GUnique. Whether a pointer is adopted (we own the ref we were given) or
// retained (we take a new one) is always spelled out at the call site.
#pragma once

#include <glib-object.h>
#include <gst/gst.h>
#include <gst/sdp/gstsdpmessage.h>

#include <memory>
#include <utility>

namespace consult {

template <typename T>
class GRef {
public:
    GRef() = default;
    GRef(std::nullptr_t) {}
    GRef(const GRef& other) : ptr_(other.ptr_) { if (ptr_) g_object_ref(ptr_); }
    GRef(GRef&& other) noexcept : ptr_(std::exchange(other.ptr_, nullptr)) {}
    ~GRef() { reset(); }

    GRef& operator=(GRef other) noexcept { std::swap(ptr_, other.ptr_); return *this; }

    // Takes over a reference the caller already owns. Floating refs are sunk,
    // so a freshly made element adopted here is owned exactly once.
    static GRef adopt(T* p) {
        GRef r;
        if (p) {
            if (g_object_is_floating(p)) g_object_ref_sink(p);
            r.ptr_ = p;
        }
        return r;
    }
    // Takes a new reference to an object owned elsewhere.
    static GRef retain(T* p) {
        GRef r;
        if (p) r.ptr_ = static_cast<T*>(g_object_ref_sink(p));
        return r;
    }

    T* get() const { return ptr_; }
    T* operator->() const { return ptr_; }
    explicit operator bool() const { return ptr_ != nullptr; }
    T* release() { return std::exchange(ptr_, nullptr); }
    void reset() { if (auto* p = std::exchange(ptr_, nullptr)) g_object_unref(p); }

private:
    T* ptr_ = nullptr;
};

template <typename T> GRef<T> adopt(T* p) { return GRef<T>::adopt(p); }
template <typename T> GRef<T> retain(T* p) { return GRef<T>::retain(p); }

// Named deleters for the non-GObject C types.
struct GFreeDeleter { void operator()(void* p) const { g_free(p); } };
struct GErrorDeleter { void operator()(GError* e) const { g_error_free(e); } };
struct GKeyFileDeleter { void operator()(GKeyFile* k) const { g_key_file_unref(k); } };
struct GStrvDeleter { void operator()(gchar** v) const { g_strfreev(v); } };
struct GMainLoopDeleter { void operator()(GMainLoop* l) const { g_main_loop_unref(l); } };
struct GBytesDeleter { void operator()(GBytes* b) const { g_bytes_unref(b); } };
struct GListDeleter { void operator()(GList* l) const { g_list_free_full(l, g_object_unref); } };
struct GstStructureDeleter { void operator()(GstStructure* s) const { gst_structure_free(s); } };
struct GstCapsDeleter { void operator()(GstCaps* c) const { gst_caps_unref(c); } };
struct GstMessageDeleter { void operator()(GstMessage* m) const { gst_message_unref(m); } };
struct GstSDPMessageDeleter { void operator()(GstSDPMessage* m) const { gst_sdp_message_free(m); } };
struct GstPromiseDeleter { void operator()(GstPromise* p) const { gst_promise_unref(p); } };

using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;
using GErrorPtr = std::unique_ptr<GError, GErrorDeleter>;
using GKeyFilePtr = std::unique_ptr<GKeyFile, GKeyFileDeleter>;
using GStrvPtr = std::unique_ptr<gchar*, GStrvDeleter>;
using GMainLoopPtr = std::unique_ptr<GMainLoop, GMainLoopDeleter>;
using GBytesPtr = std::unique_ptr<GBytes, GBytesDeleter>;
using GObjectListPtr = std::unique_ptr<GList, GListDeleter>;
using GstStructurePtr = std::unique_ptr<GstStructure, GstStructureDeleter>;
using GstCapsPtr = std::unique_ptr<GstCaps, GstCapsDeleter>;
using GstMessagePtr = std::unique_ptr<GstMessage, GstMessageDeleter>;
using GstSDPMessagePtr = std::unique_ptr<GstSDPMessage, GstSDPMessageDeleter>;
using GstPromisePtr = std::unique_ptr<GstPromise, GstPromiseDeleter>;

// Collects a GError out-parameter into an owning pointer: `f(..., err.out())`.
class GErrorOut {
public:
    GError** out() { return &raw_; }
    ~GErrorOut() { if (raw_) g_error_free(raw_); }
    explicit operator bool() const { return raw_ != nullptr; }
    const char* message() const { return raw_ ? raw_->message : ""; }
    const GError* get() const { return raw_; }
private:
    GError* raw_ = nullptr;
};

}  // namespace consult
