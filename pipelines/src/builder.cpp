#include "pipelines/builder.hpp"

#include <optional>

namespace consult::media {

PipelineBuilder::PipelineBuilder(std::string name)
    : pipeline_(adopt(gst_pipeline_new(name.c_str()))) {}

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

std::expected<GRef<GstElement>, BuildError> PipelineBuilder::build() {
    if (error_) return std::unexpected(*error_);
    return pipeline_;
}

}  // namespace consult::media
