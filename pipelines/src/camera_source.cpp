#include "pipelines/camera_source.hpp"

#include "hwconfig/gref.hpp"

namespace consult::media {

void add_camera_source(PipelineBuilder& b, const hw::SourceChoice& cam, const std::string& prefix,
                       const std::vector<hw::Property>& test) {
    if (cam.test_source) {
        b.add("videotestsrc", prefix + "src", test);
        return;
    }
    b.add("v4l2src", prefix + "src", {{"device", cam.path}});
    if (cam.mode && cam.mode->media == "image/jpeg") b.caps("image/jpeg").add("jpegdec", prefix + "jpegdec");
    else if (cam.mode && cam.mode->media == "video/x-h264")
        b.caps("video/x-h264").add("h264parse", prefix + "parse").add("openh264dec", prefix + "dec");
}

expected<std::string, std::string> grab_still(const hw::SourceChoice& cam, const std::vector<hw::Property>& test,
                                              int width, int height, std::chrono::milliseconds wait) {
    PipelineBuilder b("still");
    add_camera_source(b, cam, "still_", test);
    b.add("videoconvert").add("videoscale")
        .caps("video/x-raw,width=" + std::to_string(width) + ",height=" + std::to_string(height) + ",pixel-aspect-ratio=1/1")
        .add("jpegenc", "", {{"quality", "80"}})
        .add("appsink", "still_sink", {{"max-buffers", "1"}, {"drop", "true"}, {"sync", "false"}});
    auto pipeline = b.build();
    if (!pipeline) return unexpected("cannot build the preview: " + pipeline.error().describe());
    GstElement* element = pipeline->get();
    GRef<GstElement> sink = adopt(gst_bin_get_by_name(GST_BIN(element), "still_sink"));
    std::string jpeg, error;
    if (gst_element_set_state(element, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        error = "the camera would not start";
    } else {
        GstSample* sample = nullptr;
        g_signal_emit_by_name(sink.get(), "try-pull-sample", GstClockTime(wait.count()) * GST_MSECOND, &sample);
        if (sample) {
            GstBuffer* buf = gst_sample_get_buffer(sample);
            GstMapInfo map;
            if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
                jpeg.assign(reinterpret_cast<const char*>(map.data), map.size);
                gst_buffer_unmap(buf, &map);
            }
            gst_sample_unref(sample);
        }
        if (jpeg.empty()) {
            error = "no picture from the camera within " + std::to_string(wait.count() / 1000) + " seconds";
            GRef<GstBus> bus = adopt(gst_element_get_bus(element));
            if (GstMessagePtr msg{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)}) {
                GErrorOut gerr;
                gst_message_parse_error(msg.get(), gerr.out(), nullptr);
                error = std::string("the camera failed: ") + gerr.message();
            }
        }
    }
    gst_element_set_state(element, GST_STATE_NULL);
    if (jpeg.empty()) return unexpected(error);
    return jpeg;
}

}  // namespace consult::media
