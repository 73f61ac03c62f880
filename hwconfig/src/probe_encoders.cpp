// Test-encodes a few frames with each encoder the registry offers.
#include "hwconfig/gref.hpp"
#include "hwconfig/probe.hpp"

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <string>

namespace consult::hw {

namespace {

constexpr int kProbeFrames = 5;
constexpr GstClockTime kProbeTimeout = 5 * GST_SECOND;

std::string launch_line(const EncoderRow& row) {
    std::string line = "videotestsrc num-buffers=" + std::to_string(kProbeFrames) +
                       " ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
                       std::string(row.convert) + " ! video/x-raw";
    if (row.convert == "videoconvert") line += ",format=" + std::string(row.input_format);
    line += " ! " + std::string(row.factory) + " name=enc";
    if (!row.parser.empty()) line += " ! " + std::string(row.parser);
    line += " ! fakesink name=sink";
    return line;
}

GstPadProbeReturn count_buffer(GstPad*, GstPadProbeInfo*, gpointer counter) {
    static_cast<std::atomic<int>*>(counter)->fetch_add(1);
    return GST_PAD_PROBE_OK;
}

}  // namespace

EncoderStatus probe_encoder(const EncoderRow& row) {
    EncoderStatus status{&row, false, {}};
    const auto started = std::chrono::steady_clock::now();

    GErrorOut err;
    auto pipeline = adopt(gst_parse_launch(launch_line(row).c_str(), err.out()));
    if (!pipeline || err) {
        status.reason = std::string("cannot build test pipeline: ") + err.message();
        return status;
    }
    auto bin = GST_BIN(pipeline.get());
    auto enc = adopt(gst_bin_get_by_name(bin, "enc"));
    for (const auto& p : row.low_latency) gst_util_set_object_arg(G_OBJECT(enc.get()), p.name.data(), p.value.data());

    std::atomic<int> frames{0};
    auto sink = adopt(gst_bin_get_by_name(bin, "sink"));
    auto sinkpad = adopt(gst_element_get_static_pad(sink.get(), "sink"));
    gst_pad_add_probe(sinkpad.get(), GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &frames, nullptr);

    if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        status.reason = "element refused to start (no device or driver)";
    }
    auto bus = adopt(gst_element_get_bus(pipeline.get()));
    GstMessagePtr msg(gst_bus_timed_pop_filtered(
        bus.get(), kProbeTimeout, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    if (!msg) {
        if (status.reason.empty()) status.reason = "timed out encoding test frames";
    } else if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR) {
        GError* gerr = nullptr;
        gst_message_parse_error(msg.get(), &gerr, nullptr);
        GErrorPtr owned(gerr);
        status.reason = std::string("error: ") + (gerr ? gerr->message : "unknown");
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);

    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started).count();
    if (status.reason.empty()) {
        if (frames.load() > 0) {
            status.usable = true;
            status.reason = "encoded " + std::to_string(frames.load()) + " frames in " + std::to_string(ms) + " ms";
        } else {
            status.reason = "produced no output";
        }
    }
    return status;
}

}  // namespace consult::hw
