// What this box really has: capture and playback devices, and which encoders and
// decoders actually work (an element that exists but cannot encode does not count).
#pragma once

#include "hwconfig/encoder_table.hpp"

#include <optional>
#include <string>
#include <vector>

namespace consult::hw {

struct ProbeSettings {
    std::string camera = "auto";          // auto | test | device path or name
    std::string content_camera = "none";  // none | auto | test | device path or name
    std::string microphone = "auto";      // auto | test | device name
    std::string speaker = "auto";         // auto | none | device name
    std::string encoder = "auto";         // auto | factory name from the encoder table
    int max_width = 1280;
    int max_height = 720;
    int max_fps = 30;
};

// One capture mode a device offers.
struct Mode {
    std::string media;     // video/x-raw, image/jpeg, video/x-h264
    int width = 0;
    int height = 0;
    int fps = 0;
};

struct DeviceProperty {
    std::string name, value;
};

struct Device {
    std::string name;
    std::string klass;     // Video/Source, Audio/Source, Audio/Sink
    std::string path;      // /dev/videoN, ALSA/Pulse id
    std::vector<Mode> modes;
    // The element GStreamer makes for this very device (alsasrc, pulsesink, …) and
    // the properties that point it there, so a call opens what the probe found.
    std::string element;
    std::vector<DeviceProperty> element_props;
};

struct SourceChoice {
    bool test_source = true;   // videotestsrc/audiotestsrc in place of a device
    std::string name;          // device name or "test pattern"
    std::string path;
    std::optional<Mode> mode;  // for cameras
    std::string reason;        // why this one
    std::string element;       // microphones and speakers: the device's own element, if known
    std::vector<DeviceProperty> element_props;
};

struct EncoderStatus {
    const EncoderRow* row = nullptr;
    bool usable = false;
    std::string reason;        // "encoded 5 frames in 42 ms" or the failure
};

struct DecoderStatus {
    const DecoderRow* row = nullptr;
};

struct MissingPlugin {
    std::string element;
    std::string package;       // Debian package that provides it
};

struct ProbeResult {
    std::vector<Device> cameras, microphones, speakers;
    SourceChoice camera, content, microphone, speaker;
    std::vector<EncoderStatus> encoders;   // every row present in the registry, ranked
    const EncoderRow* encoder = nullptr;   // the chosen one, null when none works
    std::vector<DecoderStatus> decoders;   // present, ranked, H.264 then VP8
    std::vector<MissingPlugin> missing;
    double elapsed_ms = 0;
};

// Runs the whole probe (needs gst_init). Encoders are test-encoded in parallel.
ProbeResult probe(const ProbeSettings& settings);

// Chooses camera, content camera, microphone and speaker from the lists already in
// `r` (no encoder re-test): the probe's own choice, and again after the settings change.
void choose_sources(ProbeResult& r, const ProbeSettings& settings);

// Pieces, exposed for tests.
EncoderStatus probe_encoder(const EncoderRow& row);
std::vector<MissingPlugin> missing_plugins();
// The cheapest mode within the caps: native H.264, then MJPEG (only with a hardware
// JPEG decoder), then raw; the largest that fits, then the highest frame rate.
std::optional<Mode> best_mode(const std::vector<Mode>& modes, const ProbeSettings& s,
                              bool hardware_jpeg_decoder);
enum class DeviceKind { Camera, Microphone, Speaker };
SourceChoice choose_source(const std::vector<Device>& devices, const std::string& wanted,
                           const ProbeSettings& s, bool hardware_jpeg_decoder, DeviceKind kind);

}  // namespace consult::hw
