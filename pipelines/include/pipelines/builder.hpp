// Builds a GStreamer pipeline element by element and says exactly what went wrong.
#pragma once

#include "hwconfig/encoder_table.hpp"
#include "hwconfig/gref.hpp"

#include <gst/gst.h>

#include "hwconfig/expected.hpp"
#include <optional>
#include <memory>
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
    // A new pipeline, or more elements in an existing bin (the chain starts unlinked,
    // or after `link_after` when given).
    explicit PipelineBuilder(std::string name);
    // Added to a running pipeline after `link_after` (a tee that is streaming): the pad
    // feeding the new chain is held blocked until sync_with_parent() (or the builder's
    // end), so no buffer reaches an element that is not playing yet. One that did would
    // get FLUSHING back, which a tee passes upstream, and the source would stop for good.
    PipelineBuilder(GstBin* bin, GstElement* link_after = nullptr);
    ~PipelineBuilder();
    PipelineBuilder(const PipelineBuilder&) = delete;
    PipelineBuilder& operator=(const PipelineBuilder&) = delete;

    // Adds an element, sets its properties (by string, as gst-launch does) and
    // links it after the previous one in the chain unless `link` is false.
    PipelineBuilder& add(std::string_view factory, std::string_view name = {},
                         const std::vector<hw::Property>& props = {}, bool link = true);
    // Adds a capsfilter with the given caps, linked in the chain.
    PipelineBuilder& caps(std::string_view caps, const std::string& name = "");

    expected<GRef<GstElement>, BuildError> build();
    // The last element added (borrowed; the bin owns it), or null after an error.
    GstElement* last() const { return error_ ? nullptr : last_; }
    const std::optional<BuildError>& error() const { return error_; }
    // Brings every element added so far to its bin's state (for branches added live).
    void sync_with_parent();

private:
    void unblock();

    GRef<GstElement> pipeline_;
    GstElement* last_ = nullptr;
    GstElement* link_after_ = nullptr;   // outside the chain; its pad to us is held until sync
    GRef<GstPad> held_;
    gulong held_probe_ = 0;
    bool held_requested_ = false;
    std::vector<GstElement*> added_;
    std::optional<BuildError> error_;
};

// Removes every element of `bin` whose name starts with `prefix` (a branch built with
// names "<prefix>..."), first releasing request pads it holds on others. The elements
// leave the bin at once (their names are free again); they are stopped on a
// GStreamer worker thread, so the caller never waits on a streaming thread.
// `keep_alive` is released once they have stopped (what their callbacks use).
void remove_branch(GstBin* bin, const std::string& prefix, std::shared_ptr<void> keep_alive = {});

// Stops these elements (already out of any bin, or whole pipelines) off the calling
// thread, in order, and drops the references given.
void retire(std::vector<GRef<GstElement>> elements, std::shared_ptr<void> keep_alive = {});

// Waits (at most `timeout_ms`) for every retire() to finish: for a clean exit.
bool wait_for_retired(unsigned timeout_ms);

}  // namespace consult::media
