// Capture and playback devices from GstDeviceMonitor, and the choice among them.
#include "hwconfig/gref.hpp"
#include "hwconfig/probe.hpp"

#include <gst/gst.h>

#include <algorithm>
#include <tuple>

namespace consult::hw {

namespace {

int media_preference(const std::string& media, bool hardware_jpeg) {
    if (media == "video/x-h264") return 3;
    if (media == "image/jpeg") return hardware_jpeg ? 2 : 0;
    if (media == "video/x-raw") return 1;
    return 0;
}

int max_fps_of(const GstStructure* s) {
    const GValue* v = gst_structure_get_value(s, "framerate");
    if (!v) return 0;
    auto frac_fps = [](const GValue* f) {
        int d = gst_value_get_fraction_denominator(f);
        return d ? gst_value_get_fraction_numerator(f) / d : 0;
    };
    if (GST_VALUE_HOLDS_FRACTION(v)) return frac_fps(v);
    int best = 0;
    if (GST_VALUE_HOLDS_LIST(v))
        for (guint i = 0; i < gst_value_list_get_size(v); ++i)
            best = std::max(best, frac_fps(gst_value_list_get_value(v, i)));
    if (GST_VALUE_HOLDS_FRACTION_RANGE(v)) best = frac_fps(gst_value_get_fraction_range_max(v));
    return best;
}

std::vector<Mode> modes_of(GstDevice* device) {
    std::vector<Mode> modes;
    GstCapsPtr caps(gst_device_get_caps(device));
    if (!caps) return modes;
    for (guint i = 0; i < gst_caps_get_size(caps.get()); ++i) {
        const GstStructure* s = gst_caps_get_structure(caps.get(), i);
        Mode m;
        m.media = gst_structure_get_name(s);
        gst_structure_get_int(s, "width", &m.width);
        gst_structure_get_int(s, "height", &m.height);
        m.fps = max_fps_of(s);
        if (m.width > 0 && m.height > 0) modes.push_back(m);
    }
    return modes;
}

std::string device_path(GstDevice* device) {
    GstStructurePtr props(gst_device_get_properties(device));
    if (!props) return {};
    for (const char* key : {"device.path", "api.v4l2.path", "object.path", "node.name", "device.name"})
        if (const char* v = gst_structure_get_string(props.get(), key)) return v;
    return {};
}

// The element the device makes of itself, and what points it at this device.
std::pair<std::string, std::vector<DeviceProperty>> element_of(GstDevice* device) {
    GstElement* raw = gst_device_create_element(device, nullptr);
    if (!raw) return {};
    GRef<GstElement> e = adopt(GST_ELEMENT(gst_object_ref_sink(raw)));   // the floating reference, sunk
    GstElementFactory* f = gst_element_get_factory(e.get());
    std::pair<std::string, std::vector<DeviceProperty>> out{f ? GST_OBJECT_NAME(f) : "", {}};
    for (const char* prop : {"device", "target-object", "path"}) {
        GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e.get()), prop);
        if (!spec || spec->value_type != G_TYPE_STRING || !(spec->flags & G_PARAM_READABLE)) continue;
        gchar* v = nullptr;
        g_object_get(e.get(), prop, &v, nullptr);
        GCharPtr value(v);
        if (value && *value) out.second.push_back({prop, value.get()});
    }
    return out;
}

}  // namespace

std::vector<Device> list_devices(const char* klass) {
    std::vector<Device> out;
    auto monitor = adopt(gst_device_monitor_new());
    gst_device_monitor_add_filter(monitor.get(), klass, nullptr);
    if (!gst_device_monitor_start(monitor.get())) return out;
    GList* list = gst_device_monitor_get_devices(monitor.get());
    for (GList* l = list; l; l = l->next) {
        auto* dev = GST_DEVICE(l->data);
        GCharPtr name(gst_device_get_display_name(dev));
        const bool video = std::string(klass) == "Video/Source";
        auto [element, props] = video ? std::pair<std::string, std::vector<DeviceProperty>>{} : element_of(dev);
        out.push_back({name ? name.get() : "unnamed", klass, device_path(dev),
                       video ? modes_of(dev) : std::vector<Mode>{}, element, props});
    }
    GObjectListPtr owned(list);
    gst_device_monitor_stop(monitor.get());
    return out;
}

std::optional<Mode> best_mode(const std::vector<Mode>& modes, const ProbeSettings& s, bool hardware_jpeg) {
    std::optional<Mode> best;
    // Motion matters more than pixels in a consultation: below 15 fps a mode loses.
    auto key = [&](const Mode& m) {
        const int fps = std::min(m.fps, s.max_fps);
        return std::tuple(media_preference(m.media, hardware_jpeg), fps >= std::min(15, s.max_fps),
                          m.width * m.height, fps);
    };
    for (const auto& m : modes) {
        if (media_preference(m.media, hardware_jpeg) == 0) continue;
        if (m.width > s.max_width || m.height > s.max_height) continue;
        if (!best || key(m) > key(*best)) best = m;
    }
    if (best) best->fps = std::min(best->fps, s.max_fps);
    return best;
}

SourceChoice choose_source(const std::vector<Device>& devices, const std::string& wanted,
                           const ProbeSettings& s, bool hardware_jpeg, DeviceKind kind) {
    const bool is_camera = kind == DeviceKind::Camera;
    SourceChoice test{true, is_camera ? "test pattern" : kind == DeviceKind::Microphone ? "test tone" : "none",
                      "", std::nullopt, ""};
    if (wanted == "test") { test.reason = "configured"; return test; }
    for (const auto& d : devices) {
        if (wanted != "auto" && wanted != d.path && wanted != d.name) continue;
        SourceChoice c{false, d.name, d.path, std::nullopt, wanted == "auto" ? "first usable device" : "configured",
                       d.element, d.element_props};
        if (!is_camera) return c;
        c.mode = best_mode(d.modes, s, hardware_jpeg);
        if (c.mode) return c;
    }
    test.reason = wanted == "auto" ? "no device found" : "configured device '" + wanted + "' not found";
    return test;
}

}  // namespace consult::hw
