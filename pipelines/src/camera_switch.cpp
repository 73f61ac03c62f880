#include "camera_switch.hpp"

#include "pipelines/camera_source.hpp"

namespace consult::media {

CameraSwitch::CameraSwitch(GstBin* bin, const CallSettings& settings)
    : bin_(bin), settings_(settings), width_(settings.width), height_(settings.height) {}

namespace {

std::string raw_caps(const CallSettings& s, int width, int height) {
    return "video/x-raw,width=" + std::to_string(width) + ",height=" + std::to_string(height) +
           ",framerate=" + std::to_string(s.fps) + "/1,pixel-aspect-ratio=1/1";
}

}  // namespace

expected<void, BuildError> CameraSwitch::build() {
    PipelineBuilder b(bin_);
    b.add("input-selector", "vsel", {{"sync-streams", "false"}});
    if (b.error()) return unexpected(*b.error());
    selector_ = b.last();
    auto cam = build_camera(false);
    if (!cam) return unexpected(cam.error());
    camera_pad_ = link_to_selector(*cam);
    g_object_set(selector_, "active-pad", camera_pad_, nullptr);
    return {};
}

expected<GstElement*, BuildError> CameraSwitch::build_camera(bool live) {
    const std::string p = "cam" + std::to_string(generation_) + "_";
    PipelineBuilder b(bin_);
    const auto& cam = settings_.camera;
    add_camera_source(b, cam, p, kRoomTestPattern);
    b.add("videoconvert", p + "convert").add("videoscale", p + "scale").add("videorate", p + "rate")
        .caps(raw_caps(settings_, width_, height_), p + "size")
        // While the "camera off" slate is selected the selector answers not-linked,
        // which would stop a live camera for good; the tee takes that answer instead.
        .add("tee", p + "out", {{"allow-not-linked", "true"}});
    if (b.error()) return unexpected(*b.error());
    if (live) b.sync_with_parent();
    return b.last();
}

expected<GstElement*, BuildError> CameraSwitch::build_slate() {
    PipelineBuilder b(bin_);
    b.add("videotestsrc", "slate_src", {{"is-live", "true"}, {"pattern", "black"}});
    if (hw::registry_has("textoverlay"))
        b.add("textoverlay", "slate_text", {{"text", "Camera unavailable"}, {"valignment", "center"},
                                            {"halignment", "center"}, {"font-desc", "Sans 32"}});
    b.add("videoconvert", "slate_convert").caps(raw_caps(settings_, width_, height_), "slate_size");
    if (b.error()) return unexpected(*b.error());
    b.sync_with_parent();
    return b.last();
}

GstPad* CameraSwitch::link_to_selector(GstElement* tail) {
    // The selector keeps its request pad alive; we keep a borrowed pointer to it.
    GRef<GstPad> sink = adopt(gst_element_request_pad_simple(selector_, "sink_%u"));
    GRef<GstPad> src = adopt(gst_element_get_static_pad(tail, "src"));
    if (!src) src = adopt(gst_element_request_pad_simple(tail, "src_%u"));   // the camera's tee
    gst_pad_link(src.get(), sink.get());
    return sink.get();
}

bool CameraSwitch::owns(GstObject* element) const {
    const std::string p = "cam" + std::to_string(generation_) + "_";
    for (GstObject* o = element; o; o = GST_OBJECT_PARENT(o)) {
        const char* name = GST_OBJECT_NAME(o);
        if (name && std::string(name).rfind(p, 0) == 0) return true;
    }
    return false;
}

bool CameraSwitch::ensure_slate() {
    if (slate_pad_) return true;
    auto slate = build_slate();
    if (!slate) return false;
    slate_pad_ = link_to_selector(*slate);
    return true;
}

void CameraSwitch::drop_slate() {
    if (!slate_pad_) return;
    remove_branch(bin_, "slate_");   // also releases its selector pad
    slate_pad_ = nullptr;
}

void CameraSwitch::select() {
    const bool slate = on_slate_ || privacy_;
    if (slate && slate_pad_) {
        GRef<GstElement> text = adopt(gst_bin_get_by_name(bin_, "slate_text"));
        if (text) g_object_set(text.get(), "text", on_slate_ ? "Camera unavailable" : "Camera off", nullptr);
        g_object_set(selector_, "active-pad", slate_pad_, nullptr);
    } else if (!slate && camera_pad_) {
        g_object_set(selector_, "active-pad", camera_pad_, nullptr);
    }
}

void CameraSwitch::show_slate() {
    if (on_slate_) return;
    if (!ensure_slate()) return;
    on_slate_ = true;
    select();
    remove_branch(bin_, "cam" + std::to_string(generation_) + "_");   // also releases its selector pad
    camera_pad_ = nullptr;
}

bool CameraSwitch::try_restore() {
    if (!on_slate_) return true;
    const auto& cam = settings_.camera;
    if (!cam.test_source && !g_file_test(cam.path.c_str(), G_FILE_TEST_EXISTS)) return false;
    ++generation_;
    auto branch = build_camera(true);
    if (!branch) {
        remove_branch(bin_, "cam" + std::to_string(generation_) + "_");
        return false;
    }
    camera_pad_ = link_to_selector(*branch);
    on_slate_ = false;
    select();
    if (!privacy_) drop_slate();
    return true;
}

void CameraSwitch::set_privacy(bool on) {
    if (on == privacy_) return;
    privacy_ = on;
    if (on && !ensure_slate()) return;
    select();
    if (!on && !on_slate_) drop_slate();
}

void CameraSwitch::resize(int width, int height) {
    if (width == width_ && height == height_) return;
    width_ = width;
    height_ = height;
    GstCapsPtr caps(gst_caps_from_string(raw_caps(settings_, width_, height_).c_str()));
    for (const std::string& name : {"cam" + std::to_string(generation_) + "_size", std::string("slate_size")}) {
        GRef<GstElement> filter = adopt(gst_bin_get_by_name(bin_, name.c_str()));
        if (filter) g_object_set(filter.get(), "caps", caps.get(), nullptr);
    }
}

}  // namespace consult::media
