// What one recorded part holds, found by demuxing it once to the end before anything is
// decoded: which of the four tracks it has (by title), their codecs, and where the part
// ends. The end of a part cut off by a crash (no cues, no duration) is known only so.
#pragma once

#include "compose_loop.hpp"

#include <gst/gst.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace consult::media::composition {

enum class Role { RoomVideo, PatientVideo, RoomAudio, PatientAudio };
inline constexpr std::array<Role, 4> kRoles{Role::RoomVideo, Role::PatientVideo, Role::RoomAudio, Role::PatientAudio};
const char* role_title(Role r);
inline bool is_video(Role r) { return r == Role::RoomVideo || r == Role::PatientVideo; }

enum class TrackCodec { H264, VP8, Opus };

struct Track {
    std::string pad;            // matroskademux's pad for it ("video_1"): the same on every read
    TrackCodec codec;
    GstClockTime end = 0;       // end of its last buffer
};

struct PartInfo {
    std::string path;
    std::array<std::optional<Track>, 4> tracks;   // by Role
    GstClockTime duration = 0;                    // the latest track end
    std::vector<std::string> notes;               // tracks left out, and why

    const std::optional<Track>& track(Role r) const { return tracks[std::size_t(r)]; }
};

// Checks the file and demuxes it to the end. An error says why the part cannot be used.
expected<PartInfo, std::string> scan_part(const std::string& path, ComposeLoop& loop);

}  // namespace consult::media::composition
