// Where the pictures go, and the raw formats that pass from the parts to the encoders.
#pragma once

#include "pipelines/compose.hpp"

#include <string>

namespace consult::media::composition {

inline constexpr int kFps = 30;

struct Box {
    int x = 0, y = 0, width = 0, height = 0;
};

struct Canvas {
    int width = 1280, height = 360;
    Box room, patient;
    bool room_on_top = false;   // picture-in-picture: the room's inset over the patient
};

inline Canvas canvas_for(ComposeLayout layout) {
    if (layout == ComposeLayout::PictureInPicture) {
        // The patient fills the picture; the room is a quarter-width inset, bottom right.
        return Canvas{1280, 720, Box{1280 - 320 - 24, 720 - 180 - 24, 320, 180}, Box{0, 0, 1280, 720}, true};
    }
    return Canvas{1280, 360, Box{0, 0, 640, 360}, Box{640, 0, 640, 360}, false};
}

inline std::string video_raw_caps(int width, int height) {
    return "video/x-raw,format=I420,width=" + std::to_string(width) + ",height=" + std::to_string(height) +
           ",pixel-aspect-ratio=1/1";
}

inline std::string canvas_caps(const Canvas& c) {
    return video_raw_caps(c.width, c.height) + ",framerate=" + std::to_string(kFps) + "/1";
}

inline constexpr const char* kAudioRawCaps = "audio/x-raw,format=F32LE,rate=48000,channels=2,layout=interleaved";

}  // namespace consult::media::composition
