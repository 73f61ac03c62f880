#include "pipelines/builder.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace consult::media {
namespace {

TEST(PipelineBuilder, BuildsAndRunsALinkedChain) {
    auto p = PipelineBuilder("ok")
                 .add("videotestsrc", "src", {{"num-buffers", "3"}})
                 .caps("video/x-raw,width=160,height=120")
                 .add("fakesink")
                 .build();
    ASSERT_TRUE(p.has_value()) << p.error().describe();
    ASSERT_NE(gst_element_set_state(p->get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    auto bus = adopt(gst_element_get_bus(p->get()));
    GstMessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), 5 * GST_SECOND,
                                                 GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    ASSERT_TRUE(msg);
    EXPECT_EQ(GST_MESSAGE_TYPE(msg.get()), GST_MESSAGE_EOS);
    gst_element_set_state(p->get(), GST_STATE_NULL);
}

TEST(PipelineBuilder, NamesAMissingElement) {
    auto p = PipelineBuilder("x").add("videotestsrc").add("nosuchelement").add("fakesink").build();
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().element, "nosuchelement");
    EXPECT_NE(p.error().reason.find("plugin"), std::string::npos);
}

TEST(PipelineBuilder, NamesAnUnknownProperty) {
    auto p = PipelineBuilder("x").add("x264enc", "enc", {{"warp-speed", "9"}}).build();
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().element, "x264enc");
    EXPECT_NE(p.error().reason.find("warp-speed"), std::string::npos);
}

TEST(PipelineBuilder, NamesTheElementThatCannotLink) {
    auto p = PipelineBuilder("x").add("audiotestsrc").add("vp8enc", "venc").build();
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().element, "venc");
    EXPECT_NE(p.error().reason.find("audiotestsrc"), std::string::npos);
}

TEST(PipelineBuilder, RefusesInvalidCaps) {
    auto p = PipelineBuilder("x").add("videotestsrc").caps("not caps at all ((").build();
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error().element, "capsfilter");
}

}  // namespace
}  // namespace consult::media

namespace consult::media {
namespace {

GstPadProbeReturn count_buffer(GstPad*, GstPadProbeInfo*, gpointer n) {
    ++*static_cast<std::atomic<int>*>(n);
    return GST_PAD_PROBE_OK;
}

}  // namespace

// A branch added to a tee that is streaming: even when the source pushes between the
// link and the new elements' state change, the source keeps running. (A buffer that met
// a queue still in NULL came back FLUSHING through the tee and stopped the source: a
// second camera shared mid-call then never reached a browser, now and then.)
TEST(PipelineBuilder, ABranchAddedToAStreamingTeeNeverStopsItsSource) {
    auto p = PipelineBuilder("live")
                 .add("videotestsrc", "src", {{"is-live", "true"}})
                 .caps("video/x-raw,width=64,height=48,framerate=100/1")
                 .add("tee", "t", {{"allow-not-linked", "true"}})
                 .build();
    ASSERT_TRUE(p.has_value()) << p.error().describe();
    GstBin* bin = GST_BIN(p->get());
    GRef<GstElement> tee = adopt(gst_bin_get_by_name(bin, "t"));
    std::atomic<int> into_tee{0};
    GRef<GstPad> teesink = adopt(gst_element_get_static_pad(tee.get(), "sink"));
    gst_pad_add_probe(teesink.get(), GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &into_tee, nullptr);
    ASSERT_NE(gst_element_set_state(p->get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    for (int i = 0; i < 5; ++i) {
        const std::string prefix = "b" + std::to_string(i) + "_";
        PipelineBuilder b(bin, tee.get());
        b.add("queue", prefix + "queue").add("fakesink", prefix + "sink", {{"sync", "false"}});
        ASSERT_FALSE(b.error()) << b.error()->describe();
        g_usleep(50'000);   // several buffers' worth between the link and the state change
        b.sync_with_parent();
    }
    const int before = into_tee.load();
    g_usleep(300'000);
    EXPECT_GT(into_tee.load(), before + 10) << "the source stopped";
    gst_element_set_state(p->get(), GST_STATE_NULL);
}

}  // namespace consult::media
