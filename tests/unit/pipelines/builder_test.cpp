#include "pipelines/builder.hpp"

#include <gtest/gtest.h>

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
