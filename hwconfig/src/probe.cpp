#include "hwconfig/probe.hpp"

#include <gst/gst.h>

#include <chrono>
#include <future>

namespace consult::hw {

std::vector<Device> list_devices(const char* klass);  // probe_devices.cpp

namespace {

struct Required { const char* element; const char* package; };

// Elements a call cannot do without, with the Debian package that brings each.
constexpr Required kRequired[] = {
    {"webrtcbin", "gstreamer1.0-plugins-bad"},   {"nicesrc", "gstreamer1.0-nice"},
    {"dtlssrtpenc", "gstreamer1.0-plugins-bad"}, {"srtpenc", "gstreamer1.0-plugins-bad"},
    {"rtph264pay", "gstreamer1.0-plugins-good"}, {"rtph264depay", "gstreamer1.0-plugins-good"},
    {"rtpvp8pay", "gstreamer1.0-plugins-good"},  {"rtpvp8depay", "gstreamer1.0-plugins-good"},
    {"rtpopuspay", "gstreamer1.0-plugins-good"}, {"rtpopusdepay", "gstreamer1.0-plugins-good"},
    {"h264parse", "gstreamer1.0-plugins-bad"},   {"opusenc", "gstreamer1.0-plugins-base"},
    {"opusdec", "gstreamer1.0-plugins-base"},    {"webrtcdsp", "gstreamer1.0-plugins-bad"},
    {"webrtcechoprobe", "gstreamer1.0-plugins-bad"}, {"videoconvert", "gstreamer1.0-plugins-base"},
    {"videoscale", "gstreamer1.0-plugins-base"}, {"audioconvert", "gstreamer1.0-plugins-base"},
    {"audioresample", "gstreamer1.0-plugins-base"}, {"videotestsrc", "gstreamer1.0-plugins-base"},
    {"audiotestsrc", "gstreamer1.0-plugins-base"}, {"textoverlay", "gstreamer1.0-x"},
    {"vp8enc", "gstreamer1.0-plugins-good"},     {"vp8dec", "gstreamer1.0-plugins-good"},
};

bool has_hardware_jpeg_decoder() {
    for (const char* f : {"vajpegdec", "vaapijpegdec", "v4l2jpegdec"})
        if (registry_has(f)) return true;
    return false;
}

}  // namespace

std::vector<MissingPlugin> missing_plugins() {
    std::vector<MissingPlugin> out;
    for (const auto& r : kRequired)
        if (!registry_has(r.element)) out.push_back({r.element, r.package});
    return out;
}

void choose_sources(ProbeResult& r, const ProbeSettings& s) {
    const bool hw_jpeg = has_hardware_jpeg_decoder();
    r.camera = choose_source(r.cameras, s.camera, s, hw_jpeg, DeviceKind::Camera);
    if (s.content_camera == "none") {
        r.content = {true, "none", "", std::nullopt, "not configured"};
    } else {
        // The content camera must not be the room camera.
        std::vector<Device> others;
        for (const auto& d : r.cameras)
            if (r.camera.test_source || d.path != r.camera.path) others.push_back(d);
        r.content = choose_source(others, s.content_camera, s, hw_jpeg, DeviceKind::Camera);
    }
    r.microphone = choose_source(r.microphones, s.microphone, s, hw_jpeg, DeviceKind::Microphone);
    if (s.speaker == "none") r.speaker = {true, "none", "", std::nullopt, "configured"};
    else r.speaker = choose_source(r.speakers, s.speaker, s, hw_jpeg, DeviceKind::Speaker);
}

ProbeResult probe(const ProbeSettings& s) {
    const auto started = std::chrono::steady_clock::now();
    ProbeResult r;

    // Encoders first, in parallel: each test pipeline has its own threads anyway.
    std::vector<std::future<EncoderStatus>> pending;
    for (const EncoderRow* row : encoders_available(registry_has, s.encoder))
        pending.push_back(std::async(std::launch::async, [row] { return probe_encoder(*row); }));

    r.missing = missing_plugins();
    r.cameras = list_devices("Video/Source");
    r.microphones = list_devices("Audio/Source");
    r.speakers = list_devices("Audio/Sink");

    choose_sources(r, s);

    for (auto& f : pending) {
        r.encoders.push_back(f.get());
        if (!r.encoder && r.encoders.back().usable) r.encoder = r.encoders.back().row;
    }
    for (Codec c : {Codec::H264, Codec::VP8})
        for (const DecoderRow* d : decoders_available(registry_has, c)) r.decoders.push_back({d});

    r.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return r;
}

}  // namespace consult::hw
