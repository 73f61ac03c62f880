// The encoder branch sets the bitrate the way each encoder takes it. V4L2 M2M encoders
// (v4l2h264enc) take it only through their `extra-controls` structure; this machine has
// none, so a stand-in element with that property plays the encoder.
#include "encoder_branch.hpp"

#include <gtest/gtest.h>

#include <gst/base/gstbasetransform.h>

namespace consult::media {
namespace {

// A pass-through "encoder" whose only setting is a V4L2-style `extra-controls` structure.
struct ControlledEnc {
    GstBaseTransform parent;
    GstStructure* controls;
};
struct ControlledEncClass {
    GstBaseTransformClass parent_class;
};

void controlled_set(GObject* obj, guint, const GValue* value, GParamSpec*) {
    auto* self = reinterpret_cast<ControlledEnc*>(obj);
    if (self->controls) gst_structure_free(self->controls);
    const GstStructure* s = gst_value_get_structure(value);
    self->controls = s ? gst_structure_copy(s) : nullptr;
}

void controlled_get(GObject* obj, guint, GValue* value, GParamSpec*) {
    gst_value_set_structure(value, reinterpret_cast<ControlledEnc*>(obj)->controls);
}

void controlled_finalize(GObject* obj) {
    auto* self = reinterpret_cast<ControlledEnc*>(obj);
    if (self->controls) gst_structure_free(self->controls);
    G_OBJECT_CLASS(g_type_class_peek_parent(G_OBJECT_GET_CLASS(obj)))->finalize(obj);
}

void controlled_class_init(gpointer klass, gpointer) {
    auto* oc = static_cast<GObjectClass*>(klass);
    oc->set_property = controlled_set;
    oc->get_property = controlled_get;
    oc->finalize = controlled_finalize;
    g_object_class_install_property(oc, 1, g_param_spec_boxed("extra-controls", "controls", "V4L2 controls", GST_TYPE_STRUCTURE,
                                                              GParamFlags(G_PARAM_READWRITE)));
    auto* ec = static_cast<GstElementClass*>(klass);
    gst_element_class_set_static_metadata(ec, "controlled encoder (test)", "Codec/Encoder/Video", "test stand-in", "consult");
    GstCaps* any = gst_caps_new_any();
    gst_element_class_add_pad_template(ec, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, any));
    gst_element_class_add_pad_template(ec, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, any));
    gst_caps_unref(any);
    static_cast<GstBaseTransformClass*>(klass)->passthrough_on_same_caps = TRUE;
}

void register_controlled_enc() {
    static const bool done = [] {
        GType t = g_type_register_static_simple(GST_TYPE_BASE_TRANSFORM, "ConsultControlledEnc", sizeof(ControlledEncClass),
                                                controlled_class_init, sizeof(ControlledEnc), nullptr, GTypeFlags(0));
        return gst_element_register(nullptr, "consultcontrolledenc", GST_RANK_NONE, t) == TRUE;
    }();
    ASSERT_TRUE(done);
}

int video_bitrate(GstElement* enc) {
    GstStructure* s = nullptr;
    g_object_get(enc, "extra-controls", &s, nullptr);
    int v = -1;
    if (s) {
        gst_structure_get_int(s, "video_bitrate", &v);
        gst_structure_free(s);
    }
    return v;
}

TEST(EncoderBranch, AV4l2EncoderGetsItsBitrateThroughExtraControlsInBitsPerSecond) {
    register_controlled_enc();
    hw::EncoderRow row = *hw::find_encoder("v4l2h264enc");   // its quirks, this stand-in's element
    row.factory = "consultcontrolledenc";
    row.parser = "";
    row.output_caps = "video/x-raw";

    GRef<GstElement> pipeline = adopt(gst_pipeline_new("content"));
    GstElement* src = gst_element_factory_make("videotestsrc", "src");
    ASSERT_TRUE(src);
    gst_bin_add(GST_BIN(pipeline.get()), src);
    // The content camera's branch, as the call builds it: its first bitrate is set at once.
    auto branch = EncoderBranch::build(GST_BIN(pipeline.get()), src, row, "content_h264_", {640, 360}, 1500, false);
    ASSERT_TRUE(branch.has_value()) << branch.error().describe();
    GstElement* enc = gst_bin_get_by_name(GST_BIN(pipeline.get()), "content_h264_enc");
    ASSERT_TRUE(enc);
    EXPECT_EQ(video_bitrate(enc), 1'500'000);
    // The link's estimate moves it later.
    (*branch)->set_bitrate(600);
    EXPECT_EQ(video_bitrate(enc), 600'000);
    gst_object_unref(enc);
}

}  // namespace
}  // namespace consult::media
