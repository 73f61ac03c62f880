#include "pipelines/builder.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <condition_variable>
#include <mutex>

#include <optional>
#include <string_view>
#include <vector>

namespace consult::media {

PipelineBuilder::PipelineBuilder(std::string name)
    : pipeline_(adopt(gst_pipeline_new(name.c_str()))) {}

PipelineBuilder::PipelineBuilder(GstBin* bin, GstElement* link_after)
    : pipeline_(retain(GST_ELEMENT(bin))), last_(link_after), link_after_(link_after) {}

PipelineBuilder::~PipelineBuilder() { unblock(); }

void PipelineBuilder::unblock() {
    if (held_ && held_probe_) gst_pad_remove_probe(held_.get(), held_probe_);
    held_probe_ = 0;
    // A requested pad left unlinked (the chain could not link) goes back to its element.
    // (remove_branch may have released it already: then it has no parent.)
    if (held_ && held_requested_ && !gst_pad_is_linked(held_.get()))
        if (GRef<GstObject> parent = adopt(gst_pad_get_parent(held_.get())))
            gst_element_release_request_pad(GST_ELEMENT(parent.get()), held_.get());
    held_.reset();
}

PipelineBuilder& PipelineBuilder::add(std::string_view factory, std::string_view name,
                                      const std::vector<hw::Property>& props, bool link) {
    if (error_) return *this;
    const std::string f(factory);
    const std::string n(name);
    GstElement* el = gst_element_factory_make(f.c_str(), n.empty() ? nullptr : n.c_str());
    if (!el) {
        error_ = BuildError{f, "no such element (plugin missing?)"};
        return *this;
    }
    for (const auto& p : props) {
        if (!g_object_class_find_property(G_OBJECT_GET_CLASS(el), std::string(p.name).c_str())) {
            error_ = BuildError{f, "has no property '" + std::string(p.name) + "'"};
            auto owned = adopt(el);  // sinks and drops the floating ref
            return *this;
        }
        gst_util_set_object_arg(G_OBJECT(el), std::string(p.name).c_str(), std::string(p.value).c_str());
    }
    gst_bin_add(GST_BIN(pipeline_.get()), el);  // the bin takes the floating ref
    added_.push_back(el);
    if (link && last_ && last_ == link_after_ && !held_) {
        // Into a running pipeline: the upstream pad is blocked before it is linked.
        GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(last_), "src_%u");
        held_ = templ ? adopt(gst_element_request_pad_simple(last_, "src_%u")) : adopt(gst_element_get_static_pad(last_, "src"));
        held_requested_ = templ != nullptr;
        GRef<GstPad> sink = adopt(gst_element_get_static_pad(el, "sink"));
        if (held_ && sink) {
            held_probe_ = gst_pad_add_probe(held_.get(), GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
                                            [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_OK; },
                                            nullptr, nullptr);
            if (gst_pad_link(held_.get(), sink.get()) == GST_PAD_LINK_OK) {
                last_ = el;
                return *this;
            }
        }
        GCharPtr a(gst_element_get_name(last_)), b(gst_element_get_name(el));
        unblock();
        error_ = BuildError{b.get(), std::string("cannot link from ") + a.get() + " (incompatible caps)"};
        return *this;
    }
    if (link && last_ && !gst_element_link(last_, el)) {
        GCharPtr a(gst_element_get_name(last_)), b(gst_element_get_name(el));
        error_ = BuildError{b.get(), std::string("cannot link from ") + a.get() + " (incompatible caps)"};
        return *this;
    }
    last_ = el;
    return *this;
}

PipelineBuilder& PipelineBuilder::caps(std::string_view caps, const std::string& name) {
    if (error_) return *this;
    GstCaps* c = gst_caps_from_string(std::string(caps).c_str());
    if (!c) {
        error_ = BuildError{"capsfilter", "invalid caps '" + std::string(caps) + "'"};
        return *this;
    }
    GstCapsPtr owned(c);
    add("capsfilter", name);
    if (!error_) g_object_set(last_, "caps", c, nullptr);
    return *this;
}

void PipelineBuilder::sync_with_parent() {
    for (GstElement* el : added_) gst_element_sync_state_with_parent(el);
    unblock();
}

expected<GRef<GstElement>, BuildError> PipelineBuilder::build() {
    if (error_) return unexpected(*error_);
    return pipeline_;
}

namespace {

bool has_prefix(GstObject* o, const std::string& prefix) {
    const char* n = o ? GST_OBJECT_NAME(o) : nullptr;
    return n && std::string_view(n).substr(0, prefix.size()) == prefix;
}

std::vector<GstElement*> children(GstBin* bin) {
    std::vector<GstElement*> out;
    GstIterator* it = gst_bin_iterate_elements(bin);
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        out.push_back(GST_ELEMENT(g_value_get_object(&item)));  // the bin keeps them alive
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    return out;
}

// `elements` ordered so that each comes after everything it feeds, as a bin orders a
// downward state change: stopping a sink first (webrtcbin holds its inputs until it is
// negotiated) lets the streaming threads feeding it return before their own pads stop.
std::vector<GstElement*> downstream_first(const std::vector<GstElement*>& elements) {
    const std::set<GstElement*> in(elements.begin(), elements.end());
    std::map<GstElement*, std::vector<GstElement*>> feeds;   // element → the elements it pushes into
    std::map<GstElement*, int> unstopped_downstream;
    for (GstElement* el : elements) {
        unstopped_downstream[el];
        GST_OBJECT_LOCK(el);
        for (GList* l = el->srcpads; l; l = l->next) {
            GRef<GstPad> peer = adopt(gst_pad_get_peer(GST_PAD(l->data)));
            GstObject* parent = peer ? GST_OBJECT_PARENT(peer.get()) : nullptr;
            if (parent && GST_IS_ELEMENT(parent) && in.count(GST_ELEMENT(parent)) && GST_ELEMENT(parent) != el)
                feeds[el].push_back(GST_ELEMENT(parent));
        }
        GST_OBJECT_UNLOCK(el);
        unstopped_downstream[el] = int(feeds[el].size());
    }
    std::map<GstElement*, std::vector<GstElement*>> fed_by;
    for (auto& [el, targets] : feeds)
        for (GstElement* t : targets) fed_by[t].push_back(el);
    std::vector<GstElement*> out, ready;
    for (GstElement* el : elements)
        if (unstopped_downstream[el] == 0) ready.push_back(el);
    while (!ready.empty()) {
        GstElement* el = ready.back();
        ready.pop_back();
        out.push_back(el);
        for (GstElement* up : fed_by[el])
            if (--unstopped_downstream[up] == 0) ready.push_back(up);
    }
    for (GstElement* el : elements)   // a loop (none expected): the rest in any order
        if (std::find(out.begin(), out.end(), el) == out.end()) out.push_back(el);
    return out;
}

}  // namespace

void remove_branch(GstBin* bin, const std::string& prefix, std::shared_ptr<void> keep_alive) {
    std::vector<GstElement*> doomed;
    for (GstElement* el : children(bin)) {
        if (has_prefix(GST_OBJECT(el), prefix)) {
            doomed.push_back(el);
            continue;
        }
        // Request pads of other elements (tees, mixers, selectors) linked to the branch.
        std::vector<GstPad*> release;
        GST_OBJECT_LOCK(el);
        for (GList* l = el->pads; l; l = l->next) {
            GstPad* pad = GST_PAD(l->data);
            GRef<GstPadTemplate> templ = adopt(gst_pad_get_pad_template(pad));
            const bool request = templ && GST_PAD_TEMPLATE_PRESENCE(templ.get()) == GST_PAD_REQUEST;
            GRef<GstPad> peer = adopt(gst_pad_get_peer(pad));
            if (request && peer && has_prefix(GST_OBJECT_PARENT(peer.get()), prefix)) release.push_back(pad);
        }
        GST_OBJECT_UNLOCK(el);
        for (GstPad* pad : release) {
            GRef<GstPad> peer = adopt(gst_pad_get_peer(pad));
            if (GST_PAD_IS_SRC(pad)) gst_pad_unlink(pad, peer.get());
            else gst_pad_unlink(peer.get(), pad);
            gst_element_release_request_pad(el, pad);
        }
    }
    std::vector<GRef<GstElement>> stopping;
    for (GstElement* el : downstream_first(doomed)) {
        gst_element_set_locked_state(el, TRUE);
        stopping.push_back(retain(el));
        gst_bin_remove(bin, el);
    }
    retire(std::move(stopping), std::move(keep_alive));
}

namespace {

std::mutex retire_lock;
std::condition_variable retired_cv;
int retiring = 0;

struct RetireJob {
    std::vector<GRef<GstElement>> elements;
    std::shared_ptr<void> keep_alive;
};

// One thread stops retired elements, one job after another, in the order they were
// retired: a peer's branch before the pipeline it left, as on the main thread before.
GThreadPool* retirer() {
    static GThreadPool* pool = g_thread_pool_new(
        [](gpointer data, gpointer) {
            std::unique_ptr<RetireJob> job(static_cast<RetireJob*>(data));
            for (auto& el : job->elements) gst_element_set_state(el.get(), GST_STATE_NULL);
            job.reset();
            std::lock_guard hold(retire_lock);
            --retiring;
            retired_cv.notify_all();
        },
        nullptr, 1, FALSE, nullptr);
    return pool;
}

}  // namespace

void retire(std::vector<GRef<GstElement>> elements, std::shared_ptr<void> keep_alive) {
    if (elements.empty()) return;
    {
        std::lock_guard hold(retire_lock);
        ++retiring;
    }
    // A live source's streaming thread may be blocked downstream for a while; waiting
    // for it there keeps the main loop answering.
    g_thread_pool_push(retirer(), new RetireJob{std::move(elements), std::move(keep_alive)}, nullptr);
}

bool wait_for_retired(unsigned timeout_ms) {
    std::unique_lock hold(retire_lock);
    return retired_cv.wait_for(hold, std::chrono::milliseconds(timeout_ms), [] { return retiring == 0; });
}

}  // namespace consult::media
