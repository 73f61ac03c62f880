// Builds a GStreamer pipeline element by element and says exactly what went wrong.
#pragma once

#include "hwconfig/encoder_table.hpp"
#include "hwconfig/gref.hpp"

#include <gst/gst.h>

#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace consult::media {

struct BuildError {
    std::string element;   // factory or element name that failed
    std::string reason;
    std::string describe() const { return element + ": " + reason; }
};

class PipelineBuilder {
public:
    explicit PipelineBuilder(std::string name);

    // Adds an element, sets its properties (by string, as gst-launch does) and
    // links it after the previous one in the chain unless `link` is false.
    PipelineBuilder& add(std::string_view factory, std::string_view name = {},
                         const std::vector<hw::Property>& props = {}, bool link = true);
    // Adds a capsfilter with the given caps, linked in the chain.
    PipelineBuilder& caps(std::string_view caps);

    std::expected<GRef<GstElement>, BuildError> build();

private:
    GRef<GstElement> pipeline_;
    GstElement* last_ = nullptr;
    std::optional<BuildError> error_;
};

}  // namespace consult::media
