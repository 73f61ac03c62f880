#include "pipelines/builder.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace consult::media {

PipelineBuilder::PipelineBuilder(std::string name)
    : pipeline_(adopt(gst_pipeline_new(name.c_str()))) {}

PipelineBuilder::PipelineBuilder(GstBin* bin, GstElement* link_after)
    : pipeline_(retain(GST_ELEMENT(bin))), last_(link_after) {}

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
    if (link && last_ && !gst_element_link(last_, el)) {
        GCharPtr a(gst_element_get_name(last_)), b(gst_element_get_name(el));
        error_ = BuildError{b.get(), std::string("cannot link from ") + a.get() + " (incompatible caps)"};
        return *this;
    }
    last_ = el;
    return *this;
}

PipelineBuilder& PipelineBuilder::caps(std::string_view caps) {
    if (error_) return *this;
    GstCaps* c = gst_caps_from_string(std::string(caps).c_str());
    if (!c) {
        error_ = BuildError{"capsfilter", "invalid caps '" + std::string(caps) + "'"};
        return *this;
    }
    GstCapsPtr owned(c);
    add("capsfilter");
    if (!error_) g_object_set(last_, "caps", c, nullptr);
    return *this;
}

void PipelineBuilder::sync_with_parent() {
    for (GstElement* el : added_) gst_element_sync_state_with_parent(el);
}

std::expected<GRef<GstElement>, BuildError> PipelineBuilder::build() {
    if (error_) return std::unexpected(*error_);
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

}  // namespace

void remove_branch(GstBin* bin, const std::string& prefix) {
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
    for (GstElement* el : doomed) {
        gst_element_set_locked_state(el, TRUE);
        gst_element_set_state(el, GST_STATE_NULL);
        gst_bin_remove(bin, el);
    }
}

}  // namespace consult::media
