// A camera opened the way every part of the appliance opens it: the V4L2 device in the
// mode the probe chose, decoded to raw video when the camera sends JPEG or H.264, or a
// live test pattern in its place. The call's room camera and content camera and the
// Settings preview all start from this chain.
#pragma once

#include "hwconfig/expected.hpp"
#include "hwconfig/probe.hpp"
#include "pipelines/builder.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace consult::media {

// The test patterns in place of a camera: the room's moves, so an encoder has real
// work and motion to measure; the content camera's is a ball.
inline const std::vector<hw::Property> kRoomTestPattern{{"is-live", "true"}, {"pattern", "smpte"}, {"horizontal-speed", "4"}};
inline const std::vector<hw::Property> kContentTestPattern{{"is-live", "true"}, {"pattern", "ball"}};

// Adds "<prefix>src" (and the decoder the camera's mode needs) to `b`; `test` is the
// test pattern's properties when the choice is a test source.
void add_camera_source(PipelineBuilder& b, const hw::SourceChoice& cam, const std::string& prefix,
                       const std::vector<hw::Property>& test);

// One JPEG still of `width`×`height` from the camera, or the reason there is none
// (a camera that would not start, an error it reported, nothing within `wait`). Blocks
// until then: run it off the main loop.
expected<std::string, std::string> grab_still(const hw::SourceChoice& cam, const std::vector<hw::Property>& test,
                                              int width, int height, std::chrono::milliseconds wait);

}  // namespace consult::media
