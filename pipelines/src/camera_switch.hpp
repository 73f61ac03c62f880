// The room camera, or a "camera unavailable" slate when it fails, in front of the
// encoder. An input-selector switches between them without touching the encoder.
#pragma once

#include "pipelines/call.hpp"

#include <gst/gst.h>

#include <string>

namespace consult::media {

class CameraSwitch {
public:
    CameraSwitch(GstBin* bin, const CallSettings& settings);
    expected<void, BuildError> build();
    GstElement* output() const { return selector_; }

    // True when `element` belongs to the camera branch.
    bool owns(GstObject* element) const;
    // Switches to the slate and drops the failed camera branch (main thread).
    void show_slate();
    // Rebuilds the camera branch if its device is back; true on success (main thread).
    bool try_restore();
    bool on_slate() const { return on_slate_; }
    // The doctor turned the camera off: the slate says so; the camera keeps running
    // so turning it back on is instant (main thread).
    void set_privacy(bool on);
    bool privacy() const { return privacy_; }
    // The picture size the camera (and the slate) give from now on; at most the
    // configured size. A test source or a camera that can renegotiate captures it
    // natively; otherwise the branch's scaler makes it (main thread).
    void resize(int width, int height);
    int height() const { return height_; }

private:
    expected<GstElement*, BuildError> build_camera(bool live);
    expected<GstElement*, BuildError> build_slate();
    GstPad* link_to_selector(GstElement* tail);
    bool ensure_slate();
    void select();             // camera, or the slate when the camera failed or is off
    void drop_slate();

    GstBin* bin_;
    const CallSettings& settings_;
    GstElement* selector_ = nullptr;
    GstPad* camera_pad_ = nullptr;
    GstPad* slate_pad_ = nullptr;
    bool on_slate_ = false;
    bool privacy_ = false;
    int generation_ = 0;     // camera branches get fresh names after a restore
    int width_, height_;     // what the camera gives now
};

}  // namespace consult::media
