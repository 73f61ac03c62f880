#include "encoder_branch.hpp"

#include <gst/video/video.h>

namespace consult::media {

expected<std::unique_ptr<EncoderBranch>, BuildError> EncoderBranch::build(GstBin* bin, GstElement* source, const hw::EncoderRow& row,
                                                                          const std::string& prefix, BranchSize size,
                                                                          unsigned start_kbps, bool live) {
    std::unique_ptr<EncoderBranch> br(new EncoderBranch(row, prefix));
    PipelineBuilder b(bin, source);
    // A slow encoder never holds the camera up: it skips frames instead.
    b.add("queue", prefix + "queue",
          {{"leaky", "downstream"}, {"max-size-buffers", "2"}, {"max-size-bytes", "0"}, {"max-size-time", "0"}});
    // Some encoders (software VP8) are kept below the capture size; the scaler follows.
    if (row.max_height > 0 && size.height > row.max_height) {
        const int height = row.max_height & ~1;
        const int width = (size.width * height / size.height) & ~1;
        b.add("videoscale", prefix + "scale").caps("video/x-raw,width=" + std::to_string(width) + ",height=" +
                                                   std::to_string(height) + ",pixel-aspect-ratio=1/1");
    }
    b.add(row.convert, prefix + "convert");
    if (row.convert == "videoconvert") b.caps("video/x-raw,format=" + std::string(row.input_format));
    b.add(row.factory, prefix + "enc", row.low_latency);
    br->encoder_ = b.last();
    if (!row.parser.empty()) b.add(row.parser, prefix + "parse");
    b.caps(row.output_caps).add("tee", prefix + "tee", {{"allow-not-linked", "true"}});
    if (b.error()) {
        remove_branch(bin, prefix);
        return unexpected(*b.error());
    }
    br->tee_ = b.last();
    GRef<GstPad> encsrc = adopt(gst_element_get_static_pad(br->encoder_, "src"));
    gst_pad_add_probe(encsrc.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &KeyframeGate::probe,
                      new std::shared_ptr<KeyframeGate>(br->gate_),
                      [](gpointer p) { delete static_cast<std::shared_ptr<KeyframeGate>*>(p); });
    br->set_bitrate(start_kbps);
    if (live) b.sync_with_parent();
    return br;
}

void EncoderBranch::set_bitrate(unsigned kbps) {
    const std::string value = std::to_string(row_.bitrate_value(kbps));
    if (!row_.bitrate_property.empty()) {
        gst_util_set_object_arg(G_OBJECT(encoder_), std::string(row_.bitrate_property).c_str(), value.c_str());
    } else if (!row_.bitrate_structure.empty()) {
        GstStructurePtr controls(gst_structure_new_empty("controls"));
        gst_structure_set(controls.get(), std::string(row_.bitrate_structure).c_str(), G_TYPE_INT, int(row_.bitrate_value(kbps)), nullptr);
        g_object_set(encoder_, "extra-controls", controls.get(), nullptr);
    }
}

void EncoderBranch::force_keyframe() {
    gate_->let_next_through = true;
    GRef<GstPad> src = adopt(gst_element_get_static_pad(encoder_, "src"));
    gst_pad_send_event(src.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

void EncoderBranch::remove(GstBin* bin) { remove_branch(bin, prefix_); }

}  // namespace consult::media
